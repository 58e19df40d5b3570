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

    XdsEvents NONE = new XdsEvents() {};
}
