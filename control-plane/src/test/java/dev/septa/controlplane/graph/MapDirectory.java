package dev.septa.controlplane.graph;

import java.util.Map;
import java.util.Optional;

/** A fixed inventory: workloads by node id, and callers by (SPIFFE ID, address). */
record MapDirectory(Map<String, WorkloadRef> byNode, Map<String, WorkloadRef> byIdentityAndIp) implements WorkloadDirectory {

    @Override
    public Optional<WorkloadRef> byNodeId(String nodeId) {
        return Optional.ofNullable(byNode.get(nodeId));
    }

    @Override
    public Optional<WorkloadRef> bySource(String spiffeId, String address) {
        return Optional.ofNullable(byIdentityAndIp.get(spiffeId + "|" + address));
    }
}
