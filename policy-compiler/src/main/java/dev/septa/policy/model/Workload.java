package dev.septa.policy.model;

import java.util.List;

/** A pod (in local mode, a process on its own loopback address). Its proxy's node id is {@code ns/name}. */
public record Workload(ObjectMeta metadata, String serviceAccount, String address, List<WorkloadPort> ports, Source source) {
    public Workload {
        ports = ports == null ? List.of() : List.copyOf(ports);
    }

    public String id() {
        return metadata.qualifiedName();
    }
}
