package dev.septa.controlplane.recommend;

import dev.septa.policy.model.LabelSelector;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.SelectorRequirement;
import dev.septa.policy.model.Workload;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The segments a recommendation may use, for every workload of the inventory: its label group ({@code app=X} in its
 * namespace) and its finest class (the workloads of its namespace with exactly its labels, selected by all its labels
 * plus {@code DoesNotExist} for the keys that set it apart from workloads with more labels). A workload without the
 * grouping label has only its class. Names are unique per namespace and deterministic.
 */
final class SegmentUnits {
    private final Map<String, SegmentUnit> groupOf = new HashMap<>();
    private final Map<String, SegmentUnit> classOf = new HashMap<>();

    SegmentUnits(Mesh mesh, String label) {
        Map<String, List<Workload>> byNamespace = new TreeMap<>();
        Map<String, List<Workload>> byIdentity = new HashMap<>();
        for (Workload w : mesh.workloads()) {
            byNamespace.computeIfAbsent(w.metadata().namespace(), n -> new ArrayList<>()).add(w);
            byIdentity.computeIfAbsent(identity(w), i -> new ArrayList<>()).add(w);
        }
        for (var ns : byNamespace.entrySet()) {
            String namespace = ns.getKey();
            List<Workload> all = ns.getValue().stream().sorted(java.util.Comparator.comparing(Workload::id)).toList();
            Set<String> taken = new HashSet<>();
            // Label groups first, so that they keep the plain names (the label's value).
            Map<String, List<Workload>> groups = new TreeMap<>();
            all.forEach(w -> {
                String v = labels(w).get(label);
                if (v != null && !v.isEmpty()) {
                    groups.computeIfAbsent(v, x -> new ArrayList<>()).add(w);
                }
            });
            for (var g : groups.entrySet()) {
                SegmentUnit unit = unit(namespace, unique(taken, Yaml.name(g.getKey())),
                        new LabelSelector(Map.of(label, g.getKey()), List.of()), g.getValue(), byIdentity);
                g.getValue().forEach(w -> groupOf.put(w.id(), unit));
            }
            Map<Map<String, String>, List<Workload>> classes = new java.util.LinkedHashMap<>();
            all.forEach(w -> classes.computeIfAbsent(labels(w), x -> new ArrayList<>()).add(w));
            for (var c : classes.entrySet()) {
                List<Workload> members = c.getValue();
                SegmentUnit group = groupOf.get(members.getFirst().id());
                if (group != null && group.members().size() == members.size()) {
                    members.forEach(w -> classOf.put(w.id(), group));
                    continue;
                }
                Set<String> excluded = new TreeSet<>();
                for (Workload other : all) {
                    Map<String, String> l = labels(other);
                    if (!l.equals(c.getKey()) && l.entrySet().containsAll(c.getKey().entrySet())) {
                        l.keySet().stream().filter(k -> !c.getKey().containsKey(k)).forEach(excluded::add);
                    }
                }
                List<SelectorRequirement> expressions = excluded.stream()
                        .map(k -> new SelectorRequirement(k, SelectorRequirement.Operator.DoesNotExist, List.of())).toList();
                String base = members.size() == 1 ? members.getFirst().metadata().name()
                        : (c.getKey().isEmpty() ? "unlabeled" : String.join("-", new TreeMap<>(c.getKey()).values()));
                SegmentUnit unit = unit(namespace, unique(taken, Yaml.name(base)), new LabelSelector(c.getKey(), expressions),
                        members, byIdentity);
                members.forEach(w -> classOf.put(w.id(), unit));
            }
        }
    }

    /** The label group of a workload, or its class when it lacks the label. */
    SegmentUnit group(String workloadId) {
        SegmentUnit g = groupOf.get(workloadId);
        return g != null ? g : classOf.get(workloadId);
    }

    /** The smallest segment that selects the workload. */
    SegmentUnit finest(String workloadId) {
        return classOf.get(workloadId);
    }

    static String identity(Workload w) {
        return w.metadata().namespace() + "/" + w.serviceAccount();
    }

    private static SegmentUnit unit(String namespace, String name, LabelSelector selector, List<Workload> members,
                                    Map<String, List<Workload>> byIdentity) {
        Set<String> admitted = new TreeSet<>();
        members.forEach(m -> byIdentity.get(identity(m)).forEach(w -> admitted.add(w.id())));
        return new SegmentUnit(namespace, name, selector, List.copyOf(members), admitted);
    }

    private static Map<String, String> labels(Workload w) {
        return w.metadata().labels() == null ? Map.of() : w.metadata().labels();
    }

    private static String unique(Set<String> taken, String name) {
        String n = name;
        for (int i = 2; !taken.add(n); i++) {
            n = name + "-" + i;
        }
        return n;
    }
}
