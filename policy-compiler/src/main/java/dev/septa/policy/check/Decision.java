package dev.septa.policy.check;

import java.util.Objects;
import java.util.Optional;

/**
 * The answer to a {@link Query}: ALLOW or DENY, {@code by} the deciding intent ({@code ns/intent}) or
 * {@code default}, and the DryRun Deny intent that would have denied it, if any (reported, never enforced).
 */
public record Decision(Verdict verdict, String by, Optional<String> wouldDenyBy) {
    public static final String DEFAULT = "default";
    /** Envoy answers 400 before any filter runs (an escaped NUL, or an escaped slash where the proxy rejects those). */
    public static final String PATH_REJECTED = "path-rejected";

    public enum Verdict { ALLOW, DENY }

    public Decision {
        Objects.requireNonNull(verdict, "verdict");
        Objects.requireNonNull(by, "by");
        wouldDenyBy = wouldDenyBy == null ? Optional.empty() : wouldDenyBy;
    }

    public boolean allowed() {
        return verdict == Verdict.ALLOW;
    }

    /** {@code ALLOW shop/x}, {@code DENY default (would be denied by shop/y (DryRun))}. */
    @Override
    public String toString() {
        return verdict + " " + by + wouldDenyBy.map(w -> " (would be denied by " + w + " (DryRun))").orElse("");
    }
}
