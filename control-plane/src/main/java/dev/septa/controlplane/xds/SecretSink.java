package dev.septa.controlplane.xds;

import java.time.Instant;
import java.util.Set;

/** Where a {@link SecretSource} delivers SDS secrets: the xDS cache, or a fake in tests. */
public interface SecretSink {
    /** Node ids with an open stream now. */
    Set<String> connectedNodes();

    /** Whether the node has an open stream now (one lookup; {@link #connectedNodes()} copies the whole set). */
    default boolean connected(String nodeId) {
        return connectedNodes().contains(nodeId);
    }

    /** Sends {@code secrets} to the node's SDS watches, unless it holds exactly these already. */
    void publishSecrets(String nodeId, TypeResources secrets, Instant certificateExpiry);
}
