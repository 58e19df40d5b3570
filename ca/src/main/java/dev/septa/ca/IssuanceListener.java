package dev.septa.ca;

import java.time.Duration;

/**
 * Metrics hook. The control plane adapts it to Micrometer; the CA itself depends on no metrics library.
 * Called on the issuing thread, after the outcome is known; implementations must be fast and thread-safe.
 * An exception thrown here is logged and otherwise ignored: metrics never break issuance.
 */
public interface IssuanceListener {

    IssuanceListener NONE = new IssuanceListener() {
    };

    /** Kind of certificate, a metric tag. */
    enum Kind { WORKLOAD, SERVING }

    default void issued(Kind kind, IssuedCertificate certificate, Duration latency) {
    }

    default void refused(Kind kind, RefusalReason reason, Duration latency) {
    }
}
