package dev.septa.controlplane.publish;

import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.Workload;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The input model in force (of the last good compile) and the latest compile's status. Thread-safe. Only the
 * {@link Mesh} is kept, not the compiled proxies: the configuration in force ({@code PublishedConfig}, which keeps
 * the compiled mesh to assemble a newcomer's snapshot on demand) and the compiler's memo hold those.
 */
public final class MeshState {
    private volatile Mesh mesh;
    private volatile Map<String, Workload> workloads = Map.of();
    private volatile java.util.Set<String> quarantined = java.util.Set.of();
    private volatile CompileStatus status = CompileStatus.NONE;

    public Optional<Mesh> mesh() {
        return Optional.ofNullable(mesh);
    }

    public CompileStatus status() {
        return status;
    }

    void applied(Mesh mesh, CompileStatus status) {
        Map<String, Workload> byId = new HashMap<>();
        mesh.workloads().forEach(w -> byId.putIfAbsent(w.id(), w));
        this.workloads = byId;
        this.quarantined = mesh.quarantines().stream().map(dev.septa.policy.model.Quarantine::target)
                .collect(java.util.stream.Collectors.toUnmodifiableSet());
        this.mesh = mesh;
        this.status = status;
    }

    void rejected(CompileStatus status) {
        this.status = status;
    }

    /** Whether the mesh in force quarantines this node's workload (its certificate is then not renewed). */
    public boolean quarantined(String nodeId) {
        return quarantined.contains(nodeId);
    }

    public Optional<Workload> workload(String nodeId) {
        return Optional.ofNullable(workloads.get(nodeId));
    }

    /** The SPIFFE ID of a workload of the mesh in force. */
    public Optional<String> spiffeId(String nodeId) {
        Mesh m = mesh;
        return workload(nodeId).map(w -> m.config().spiffeId(w.metadata().namespace(), w.serviceAccount()));
    }
}
