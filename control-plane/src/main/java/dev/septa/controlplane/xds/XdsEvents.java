package dev.septa.controlplane.xds;

import dev.septa.policy.compile.Dialect;
import java.time.Duration;

/** What the xDS side reports to metrics and logs. Called outside the cache's lock; must not block. */
public interface XdsEvents {
    default void pushed(String nodeId, String typeUrl, String version) {}

    default void nacked(String nodeId, String typeUrl, String version, String error) {}

    /** Every type the proxy watches is ACKed at the configuration published for a change {@code latency} ago. */
    default void converged(String nodeId, Dialect dialect, Duration latency) {}

    default void connectionsChanged() {}

    /** What happened to a version of one type at one node (the audit log's record of the exchange). */
    enum VersionOutcome { SENT, ACKED, NACKED }

    /**
     * A node was first sent, or ACKed, or NACKed (with {@code error}) this version of a type: once per node, type,
     * version and outcome while the node stays connected (the same answer on more streams of the node is not
     * repeated). {@code configVersion}: the policy version whose publish produced it, null for secrets or when it is
     * no longer the node's configuration.
     */
    default void version(String nodeId, String typeUrl, String version, String configVersion, VersionOutcome outcome,
                         String error) {}

    /** Both, in order; a failure of the first does not keep the second from hearing. */
    static XdsEvents both(XdsEvents first, XdsEvents second) {
        return new XdsEvents() {
            private void each(java.util.function.Consumer<XdsEvents> call) {
                try {
                    call.accept(first);
                } finally {
                    call.accept(second);
                }
            }

            @Override
            public void pushed(String nodeId, String typeUrl, String version) {
                each(e -> e.pushed(nodeId, typeUrl, version));
            }

            @Override
            public void nacked(String nodeId, String typeUrl, String version, String error) {
                each(e -> e.nacked(nodeId, typeUrl, version, error));
            }

            @Override
            public void converged(String nodeId, Dialect dialect, Duration latency) {
                each(e -> e.converged(nodeId, dialect, latency));
            }

            @Override
            public void connectionsChanged() {
                each(XdsEvents::connectionsChanged);
            }

            @Override
            public void version(String nodeId, String typeUrl, String version, String configVersion,
                                VersionOutcome outcome, String error) {
                each(e -> e.version(nodeId, typeUrl, version, configVersion, outcome, error));
            }
        };
    }

    XdsEvents NONE = new XdsEvents() {};
}
