package dev.septa.sidecar.bootstrap;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/** The xDS node a bootstrap describes: one workload, node id {@code ns/name}. */
public record ProxyNode(String namespace, String name, Map<String, String> labels, String serviceAccount) {
    public ProxyNode {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(name, "name");
        labels = labels == null ? Map.of() : Map.copyOf(new TreeMap<>(labels));
        serviceAccount = serviceAccount == null || serviceAccount.isBlank() ? "default" : serviceAccount;
    }

    public String id() {
        return namespace + "/" + name;
    }
}
