package dev.septa.policy.compile;

import dev.septa.policy.model.Diagnostic;
import java.util.List;
import java.util.Optional;

/**
 * All diagnostics of one compile, and the compiled mesh only when there was no error: a configuration that
 * fails is rejected whole, never applied with its broken intents dropped.
 */
public record CompileResult(List<Diagnostic> diagnostics, Optional<CompiledMesh> mesh) {
    public CompileResult {
        diagnostics = List.copyOf(diagnostics);
    }

    public boolean hasErrors() {
        return diagnostics.stream().anyMatch(Diagnostic::isError);
    }
}
