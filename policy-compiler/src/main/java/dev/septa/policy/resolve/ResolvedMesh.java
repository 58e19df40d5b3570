package dev.septa.policy.resolve;

import dev.septa.identity.SpiffeId;
import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.SegmentRef;
import dev.septa.policy.model.Service;
import dev.septa.policy.model.Workload;
import java.util.List;
import java.util.Map;

/**
 * The mesh with every selector evaluated: segment and service members (sorted by workload id), workloads by
 * namespace and by SPIFFE identity. Built once per compile; lookups are O(1).
 */
public record ResolvedMesh(Mesh mesh,
                           Map<SegmentRef, List<Workload>> segmentMembers,
                           Map<Service, List<Workload>> serviceMembers,
                           Map<String, List<Workload>> workloadsByNamespace,
                           Map<String, List<Workload>> workloadsByIdentity,
                           List<Diagnostic> diagnostics) {

    public List<Workload> members(SegmentRef ref) {
        return segmentMembers.getOrDefault(ref, List.of());
    }

    public String identity(Workload w) {
        return mesh.config().spiffeId(w.metadata().namespace(), w.serviceAccount());
    }

    /** The principal prefix that admits every workload of a namespace, present and future. */
    public String namespacePrefix(String namespace) {
        return SpiffeId.namespacePrefix(mesh.config().trustDomain(), namespace);
    }
}
