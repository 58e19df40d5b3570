package dev.septa.controlplane.quarantine;

import dev.septa.policy.model.Quarantine;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;
import java.time.Instant;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One {@code septa quarantine} order as the HTTP API takes it and the state directory keeps it: the workload
 * ({@code ns/name}), the reason, the forensics segment ({@code name} in the workload's namespace, or {@code ns/name};
 * null for none) and when it was given. {@link #problem} checks outside input before anything is stored.
 */
@Serdeable
public record QuarantineOrder(String workload, String reason, @Nullable String allowFrom, @Nullable Instant since) {
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

    public QuarantineOrder {
        Objects.requireNonNull(workload, "workload");
        reason = reason == null ? Quarantine.NO_REASON : reason;
    }

    public String namespace() {
        return workload.substring(0, workload.indexOf('/'));
    }

    public String name() {
        return workload.substring(workload.indexOf('/') + 1);
    }

    /** The forensics segment as {@code ns/name}, or null. */
    public String allowFromQualified() {
        return allowFrom == null ? null : allowFrom.contains("/") ? allowFrom : namespace() + "/" + allowFrom;
    }

    /** What is wrong with a workload, reason and forensics segment given from outside, or null when they are fine. */
    public static String problem(String workload, String reason, String allowFrom) {
        if (workload == null || workload.isEmpty()) {
            return "missing workload: write NAMESPACE/NAME, such as shop/checkout-1";
        }
        int slash = workload.indexOf('/');
        if (slash < 0 || workload.length() > 64 + 253 || !LABEL.matcher(workload.substring(0, slash)).matches()
                || slash > 63 || !SUBDOMAIN.matcher(workload.substring(slash + 1)).matches() || workload.length() - slash - 1 > 253) {
            return "invalid workload '" + printable(workload) + "': write NAMESPACE/NAME in lowercase letters, digits and '-', such as shop/checkout-1";
        }
        if (reason != null) {
            String p = Quarantine.reasonProblem(reason);
            if (p != null) {
                return "invalid reason: it " + p;
            }
        }
        if (allowFrom != null) {
            String[] parts = allowFrom.split("/", -1);
            boolean ok = allowFrom.length() <= 64 + 253 && parts.length <= 2 && SUBDOMAIN.matcher(parts[parts.length - 1]).matches()
                    && (parts.length == 1 || LABEL.matcher(parts[0]).matches());
            if (!ok) {
                return "invalid forensics segment '" + printable(allowFrom) + "': write SEGMENT (in the workload's namespace) or NAMESPACE/SEGMENT";
            }
        }
        return null;
    }

    /** Outside input echoed in an error: at most 80 characters, control characters escaped. */
    static String printable(String s) {
        return dev.septa.policy.model.Printable.cut(s, 80);
    }
}
