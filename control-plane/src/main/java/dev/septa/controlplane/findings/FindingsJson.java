package dev.septa.controlplane.findings;

import io.micronaut.serde.annotation.Serdeable;

import java.util.List;
import java.util.Map;

/**
 * {@code GET /api/findings}: the findings (most recently seen first), the thresholds in force and how complete the
 * picture is.
 *
 * @param newEdgeDetection {@code learning until <instant>}, {@code on}, or {@code off: ...} with the reason
 */
@Serdeable
public record FindingsJson(String generatedAt, Detection detection, Limits limits, Counters counters,
                           @io.micronaut.core.annotation.Nullable List<Finding> findings) {

    /** Serde leaves empty lists out; read back, they are empty again. */
    public FindingsJson {
        findings = findings == null ? List.of() : List.copyOf(findings);
    }

    @Serdeable
    public record Detection(int probeThreshold, long probeWindowSeconds, long learningWindowSeconds,
                            @io.micronaut.core.annotation.Nullable String learningEndsAt,
                            String newEdgeDetection) {
    }

    @Serdeable
    public record Limits(int maxFindings, int maxSources, int maxKnownEdges) {
    }

    /**
     * @param raised findings raised since start, by kind
     * @param untrackedDenials denied calls not counted for probing (more distinct sources than maxSources at once)
     * @param sinkDropped JSON lines the sink could not write
     */
    @Serdeable
    public record Counters(Map<String, Long> raised, long evicted, int trackedSources, int knownEdges, long untrackedDenials,
                           long sinkDropped) {
    }
}
