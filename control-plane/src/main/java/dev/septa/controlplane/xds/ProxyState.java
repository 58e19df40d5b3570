package dev.septa.controlplane.xds;

import dev.septa.policy.compile.Dialect;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/** What the control plane knows about one connected node. Guarded by the cache's lock. */
final class ProxyState {
    final String nodeId;
    Dialect dialect;
    final Set<StreamSession> sessions = new LinkedHashSet<>();
    ProxySnapshot config;
    TypeResources secrets;
    Instant certificateExpiry;
    /** The latest version ACKed per type on any of the node's streams (for status). */
    final Map<String, String> acked = new HashMap<>();
    Nack lastNack;
    /** The policy version whose publish gave this node {@link #config} (null: not known, as in tests). */
    String configVersion;
    /** The last version first sent and NACKed per type, so that the audit hears of each once (not per stream). */
    final Map<String, String> sentVersions = new HashMap<>();
    final Map<String, String> nackedVersions = new HashMap<>();
    /** System.nanoTime() of the change whose configuration is not yet ACKed everywhere, or 0. */
    long pendingChangeNanos;
    final Instant connectedSince = Instant.now();

    ProxyState(String nodeId, Dialect dialect) {
        this.nodeId = nodeId;
        this.dialect = dialect;
    }

    record Nack(String typeUrl, String version, String error, Instant at) {}
}
