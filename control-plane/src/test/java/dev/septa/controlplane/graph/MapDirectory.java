package dev.septa.controlplane.graph;

import java.util.Map;
import java.util.Optional;

/** A fixed inventory: workloads by node id, and callers by (SPIFFE ID, address). */
class MapDirectory implements WorkloadDirectory {
    private final Map<String, WorkloadRef> byNode;
    private final Map<String, WorkloadRef> byIdentityAndIp;

    MapDirectory(Map<String, WorkloadRef> byNode, Map<String, WorkloadRef> byIdentityAndIp) {
        this.byNode = byNode;
        this.byIdentityAndIp = byIdentityAndIp;
    }

    @Override
    public Optional<WorkloadRef> byNodeId(String nodeId) {
        return Optional.ofNullable(byNode.get(nodeId));
    }

    @Override
    public Optional<WorkloadRef> bySource(String spiffeId, String address) {
        return Optional.ofNullable(byIdentityAndIp.get(spiffeId + "|" + address));
    }
}
