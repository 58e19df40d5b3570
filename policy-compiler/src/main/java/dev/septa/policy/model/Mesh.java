package dev.septa.policy.model;

import java.util.List;

/**
 * Everything the compiler reads: the mesh config, the intents, the inventory and the quarantines in force
 * (incident response: they beat every intent). Immutable.
 */
public record Mesh(MeshConfig config, List<Segment> segments, List<Intent> intents,
                   List<Workload> workloads, List<Service> services, List<Quarantine> quarantines) {
    public Mesh {
        config = config == null ? MeshConfig.DEFAULT : config;
        segments = List.copyOf(segments);
        intents = List.copyOf(intents);
        workloads = List.copyOf(workloads);
        services = List.copyOf(services);
        quarantines = quarantines == null ? List.of() : List.copyOf(quarantines);
    }

    /** A mesh without quarantines. */
    public Mesh(MeshConfig config, List<Segment> segments, List<Intent> intents, List<Workload> workloads, List<Service> services) {
        this(config, segments, intents, workloads, services, List.of());
    }

    /** The quarantines of workload {@code ns/name} (usually none or one). */
    public List<Quarantine> quarantinesOf(String workloadId) {
        return quarantines.stream().filter(q -> q.target().equals(workloadId)).toList();
    }
}
