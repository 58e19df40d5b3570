package dev.septa.policy.model;

import java.util.Objects;

/**
 * An incident responder's order to cut one workload off: it may neither call nor be called, except by the
 * {@code allowFrom} segment (forensics; null for nobody), whatever the intents say. Lives in the workload's namespace
 * ({@code metadata.namespace}); {@code workload} is the Workload's (in Kubernetes, the pod's) name there. The
 * {@code reason} names the RBAC policy that denies, so {@code septa check} and the access log show it:
 * {@code quarantine:<reason>}.
 */
public record Quarantine(ObjectMeta metadata, String workload, String reason, SegmentRef allowFrom, Source source) {
    /** The reason when none was given. */
    public static final String NO_REASON = "unspecified";
    /** A reason is printable ASCII, at most this long: it becomes an RBAC policy name and a line of {@code septa check}. */
    public static final int MAX_REASON = 128;

    public Quarantine {
        Objects.requireNonNull(metadata, "metadata");
        Objects.requireNonNull(workload, "workload");
        reason = reason == null ? NO_REASON : reason;
    }

    /** The quarantined workload's id, {@code ns/name}. */
    public String target() {
        return metadata.namespace() + "/" + workload;
    }

    public String qualifiedName() {
        return metadata.qualifiedName();
    }

    /** What is wrong with a reason, or null when it is fine: 1 to 128 printable ASCII characters, not blank at either end. */
    public static String reasonProblem(String reason) {
        if (reason.isEmpty() || reason.length() > MAX_REASON) {
            return "must be 1 to " + MAX_REASON + " characters";
        }
        for (int i = 0; i < reason.length(); i++) {
            char c = reason.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                return "must be printable ASCII (letters, digits, spaces, punctuation), found character " + String.format("U+%04X", (int) c)
                        + " at " + (i + 1);
            }
        }
        if (reason.charAt(0) == ' ' || reason.charAt(reason.length() - 1) == ' ') {
            return "must not start or end with a space";
        }
        return null;
    }
}
