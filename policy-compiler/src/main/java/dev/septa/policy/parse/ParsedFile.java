package dev.septa.policy.parse;

import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.model.Source;
import java.util.List;

/**
 * One input file decoded on its own ({@link MeshParser#parseFile}): its resources in document order, where each
 * document starts, the file's own diagnostics, and where each decoded object was written (for the diagnostics
 * that span files). Immutable, so a cache may hand the same instance to many compiles.
 */
public final class ParsedFile {
    private final List<Object> resources;
    private final List<Source> documentPositions;
    private final List<Diagnostic> diagnostics;
    private final Positions positions;

    ParsedFile(List<Object> resources, List<Source> documentPositions, List<Diagnostic> diagnostics, Positions positions) {
        this.resources = List.copyOf(resources);
        this.documentPositions = List.copyOf(documentPositions);
        this.diagnostics = List.copyOf(diagnostics);
        this.positions = positions;
    }

    List<Object> resources() {
        return resources;
    }

    List<Source> documentPositions() {
        return documentPositions;
    }

    public List<Diagnostic> diagnostics() {
        return diagnostics;
    }

    Positions positions() {
        return positions;
    }
}
