package dev.septa.controlplane.publish;

import java.time.Instant;
import java.util.List;

/**
 * The outcome of the latest compile. When {@code ok} is false, {@code errors} are {@code file:line:col: error: ...}
 * lines and the configuration of {@code appliedAt} (the last good one) stays in force.
 */
public record CompileStatus(boolean ok, Instant at, List<String> errors, List<String> warnings,
                            String appliedInput, Instant appliedAt) {
    public CompileStatus {
        errors = List.copyOf(errors);
        warnings = List.copyOf(warnings);
    }

    public static final CompileStatus NONE = new CompileStatus(false, null, List.of(), List.of(), null, null);
}
