package dev.septa.policy.model;

import java.util.List;

/** Everything the compiler reads: the mesh config, the intents and the inventory. Immutable. */
public record Mesh(MeshConfig config, List<Segment> segments, List<Intent> intents,
                   List<Workload> workloads, List<Service> services) {
    public Mesh {
        config = config == null ? MeshConfig.DEFAULT : config;
        segments = List.copyOf(segments);
        intents = List.copyOf(intents);
        workloads = List.copyOf(workloads);
        services = List.copyOf(services);
    }
}
