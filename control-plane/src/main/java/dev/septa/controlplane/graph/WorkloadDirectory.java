package dev.septa.controlplane.graph;

import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Maps what an access log says about a peer to a workload of the inventory. The control plane implements it from
 * its current inventory (and the segments the compiler resolved); it must be thread-safe and cheap, since the
 * access-log receiver asks it for every entry.
 */
public interface WorkloadDirectory {

    /** The workload whose xDS node id (Envoy sidecars: {@code NS/NAME}) sent the access log: the destination. */
    Optional<WorkloadRef> byNodeId(String nodeId);

    /**
     * The calling workload. Several workloads can share a SPIFFE ID (one service account), so the address, when
     * known, tells them apart; in local mode every workload has its own loopback address.
     *
     * @param spiffeId the peer certificate's URI SAN, or null for a plaintext peer
     * @param address the peer's IP address as text, or null
     */
    Optional<WorkloadRef> bySource(String spiffeId, String address);

    /** Every workload of the inventory, so that the page also shows those that have not called or been called yet. */
    default Collection<WorkloadRef> workloads() {
        return List.of();
    }

    /** The quarantined workloads of the mesh in force: node id to the quarantine's reason. */
    default java.util.Map<String, String> quarantines() {
        return java.util.Map.of();
    }
}
