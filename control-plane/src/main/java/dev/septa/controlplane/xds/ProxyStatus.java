package dev.septa.controlplane.xds;

import java.time.Instant;
import java.util.Map;

/** A read-only view of one connected proxy for the status API. */
public record ProxyStatus(String nodeId, String dialect, int streams, String snapshot, Map<String, String> ackedVersions,
                          boolean inSync, Nack lastNack, Instant certificateExpiry, Instant connectedSince) {
    public record Nack(String typeUrl, String version, String error, Instant at) {}
}
