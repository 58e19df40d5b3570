package dev.septa.controlplane.publish;

import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.model.Workload;
import java.util.Optional;

/** The configuration in force (the last good compile) and the latest compile's status. Thread-safe. */
public final class MeshState {
    private volatile CompiledMesh mesh;
    private volatile CompileStatus status = CompileStatus.NONE;

    public Optional<CompiledMesh> mesh() {
        return Optional.ofNullable(mesh);
    }

    public CompileStatus status() {
        return status;
    }

    void applied(CompiledMesh mesh, CompileStatus status) {
        this.mesh = mesh;
        this.status = status;
    }

    void rejected(CompileStatus status) {
        this.status = status;
    }

    public Optional<Workload> workload(String nodeId) {
        CompiledMesh m = mesh;
        if (m == null) {
            return Optional.empty();
        }
        return m.mesh().workloads().stream().filter(w -> w.id().equals(nodeId)).findFirst();
    }

    /** The SPIFFE ID of a workload of the mesh in force. */
    public Optional<String> spiffeId(String nodeId) {
        CompiledMesh m = mesh;
        return workload(nodeId).map(w -> m.mesh().config().spiffeId(w.metadata().namespace(), w.serviceAccount()));
    }
}
