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

    /** The policy version that produced {@code version} of the type, if it is the node's configuration in force (lock held). */
    String configVersionOf(String typeUrl, String version) {
        if (ProxyConfigCache.isSecret(typeUrl) || config == null) {
            return null;
        }
        TypeResources t = config.type(typeUrl);
        String inForce = t == null ? TypeResources.EMPTY.version() : t.version();
        return inForce.equals(version) ? configVersion : null;
    }

    /** What the node is to hold of {@code typeUrl} now: its secrets, or its configuration (null before the first). */
    TypeResources current(String typeUrl) {
        if (ProxyConfigCache.isSecret(typeUrl)) {
            return secrets;
        }
        if (config == null) {
            return null;
        }
        TypeResources t = config.type(typeUrl);
        return t == null ? TypeResources.EMPTY : t;
    }

    record Nack(String typeUrl, String version, String error, Instant at) {}
}
