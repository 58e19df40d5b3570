package dev.septa.controlplane.recommend;

import dev.septa.policy.model.LabelSelector;
import dev.septa.policy.model.SelectorRequirement;
import dev.septa.policy.model.Workload;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A set of workloads of one namespace that a Segment can select, as {@code septa recommend} uses it: either a label
 * group (every workload with one value of the grouping label) or a finest class (the workloads whose labels are exactly
 * equal: a label selector cannot tell them apart). As a source it admits every workload that carries one of its
 * members' identities ({@code ns/serviceAccount}), since RBAC sees identities, not workloads.
 *
 * @param name the Segment's name, unique in its namespace
 */
record SegmentUnit(String namespace, String name, LabelSelector selector, List<Workload> members,
                   Set<String> admittedSources) implements Comparable<SegmentUnit> {

    boolean contains(String workloadId) {
        return members.stream().anyMatch(w -> w.id().equals(workloadId));
    }

    Set<String> memberIds() {
        Set<String> ids = new TreeSet<>();
        members.forEach(w -> ids.add(w.id()));
        return ids;
    }

    String refFrom(String intentNamespace) {
        return namespace.equals(intentNamespace) ? name : namespace + "/" + name;
    }

    String qualifiedName() {
        return namespace + "/" + name;
    }

    /** The selector as flow-style YAML lines under {@code selector:}, indented by four spaces. */
    String selectorYaml() {
        StringBuilder sb = new StringBuilder();
        if (!selector.matchLabels().isEmpty()) {
            sb.append("    matchLabels: {");
            String sep = "";
            for (Map.Entry<String, String> e : new java.util.TreeMap<>(selector.matchLabels()).entrySet()) {
                sb.append(sep).append(Yaml.scalar(e.getKey())).append(": ").append(Yaml.scalar(e.getValue()));
                sep = ", ";
            }
            sb.append("}\n");
        }
        if (!selector.matchExpressions().isEmpty()) {
            sb.append("    matchExpressions:\n");
            for (SelectorRequirement r : selector.matchExpressions()) {
                sb.append("      - {key: ").append(Yaml.scalar(r.key())).append(", operator: ").append(r.operator()).append("}\n");
            }
        }
        return sb.toString();
    }

    @Override
    public int compareTo(SegmentUnit o) {
        int c = namespace.compareTo(o.namespace);
        return c != 0 ? c : name.compareTo(o.name);
    }
}
