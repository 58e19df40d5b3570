package dev.septa.controlplane.graph;

import java.util.Objects;

/**
 * A node of the traffic graph: a mesh workload ({@code namespace/name}, with the segment the page groups it under),
 * or a caller outside the inventory ({@code external}), named by its SPIFFE ID or address so it still shows up.
 *
 * @param segment the segment the page draws the workload inside; null when it belongs to none
 */
public record WorkloadRef(String namespace, String name, String segment, boolean external) {

    public WorkloadRef {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(name, "name");
    }

    public static WorkloadRef workload(String namespace, String name, String segment) {
        return new WorkloadRef(namespace, name, segment, false);
    }

    /** A caller the directory does not know: its SPIFFE ID's namespace when it has one, else "(outside)". */
    public static WorkloadRef external(String spiffeId, String address) {
        if (spiffeId != null && !spiffeId.isEmpty()) {
            String ns = SpiffeIds.namespace(spiffeId);
            return new WorkloadRef(ns == null ? "(outside)" : ns, spiffeId, null, true);
        }
        return new WorkloadRef("(outside)", address == null || address.isEmpty() ? "unknown" : address, null, true);
    }

    /** The node id used in the graph and in {@code septa check}: {@code namespace/name} (the full name for externals). */
    public String id() {
        return external ? name : namespace + "/" + name;
    }
}
