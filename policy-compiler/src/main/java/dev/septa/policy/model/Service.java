package dev.septa.policy.model;

import java.util.List;
import java.util.Map;

/** A Kubernetes-style service: a stable name for the workloads its selector picks. */
public record Service(ObjectMeta metadata, Map<String, String> selector, List<WorkloadPort> ports, Source source) {
    public Service {
        selector = selector == null ? Map.of() : Map.copyOf(selector);
        ports = ports == null ? List.of() : List.copyOf(ports);
    }

    /** Envoy cluster-style host name: {@code name.namespace}. */
    public String host() {
        return metadata.name() + "." + metadata.namespace();
    }
}
