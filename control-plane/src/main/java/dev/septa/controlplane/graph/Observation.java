package dev.septa.controlplane.graph;

import java.util.Objects;

/**
 * One observed call (or a sampled stand-in for several), as the receiver read it from an access log.
 *
 * @param decidedBy the policy that decided: {@code ns/intent}, or {@code default}; null when the log did not say
 * @param wouldDenyBy the DryRun Deny intent that would have denied it, or null
 * @param method the HTTP method, or null (TCP)
 * @param path the request path, or null (TCP)
 */
public record Observation(WorkloadRef source, WorkloadRef destination, int port, Verdict verdict,
                          String decidedBy, String wouldDenyBy, String method, String path) {
    public Observation {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(destination, "destination");
        Objects.requireNonNull(verdict, "verdict");
    }

    public Observation withDecision(Verdict verdict, String decidedBy, String wouldDenyBy) {
        return new Observation(source, destination, port, verdict, decidedBy, wouldDenyBy, method, path);
    }
}
