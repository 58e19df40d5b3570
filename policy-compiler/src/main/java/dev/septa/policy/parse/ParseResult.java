package dev.septa.policy.parse;

import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.model.Mesh;
import java.util.List;

/**
 * The parsed mesh and every diagnostic, all at once. When {@link #hasErrors()} the mesh holds only the
 * resources that parsed cleanly and must not be compiled.
 */
public record ParseResult(Mesh mesh, List<Diagnostic> diagnostics) {
    public ParseResult {
        diagnostics = List.copyOf(diagnostics);
    }

    public boolean hasErrors() {
        return diagnostics.stream().anyMatch(Diagnostic::isError);
    }
}
