package dev.septa.policy.model;

import java.util.Map;
import java.util.Objects;

/** Kubernetes-style metadata. {@code namespace} is null for cluster-scoped kinds (MeshConfig). */
public record ObjectMeta(String name, String namespace, Map<String, String> labels) {
    public ObjectMeta {
        Objects.requireNonNull(name, "name");
        labels = labels == null ? Map.of() : Map.copyOf(labels);
    }

    /** {@code namespace/name}, or just the name when cluster-scoped. */
    public String qualifiedName() {
        return namespace == null ? name : namespace + "/" + name;
    }
}
