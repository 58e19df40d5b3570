package dev.septa.controlplane.recommend;

import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.Protocol;
import dev.septa.policy.model.Workload;
import dev.septa.policy.model.WorkloadPort;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code septa recommend}: from the observed edges, Segments and Intents that allow that traffic and nothing else,
 * grouped by an existing label ({@code app} by default). One Segment per (namespace, label value) that takes part in
 * an edge; one Allow intent per destination segment and set of ports, naming every source segment that used exactly
 * those ports, in the destination's namespace. With {@code defaultAction: Deny}, everything else is denied.
 *
 * <p>Groups are what RBAC can tell apart only as far as identities allow: a source segment admits every workload with
 * a member's SPIFFE ID, and a destination segment covers all its members. When that admits a (source, destination,
 * port) that was not observed, the recommendation widens; those pairs are listed ({@link Recommendation#widened()})
 * rather than hidden. Callers outside the inventory, and workloads without the label, cannot be named by a segment:
 * they are listed as {@link Recommendation#unexpressible()}.
 */
public final class IntentRecommender {

    /** A (source, destination, port) the recommendation allows though it was never observed, and why. */
    public record Widened(String from, String to, int port, String because) { }

    /** What to write (YAML documents, {@code ---}-separated) and what it could not say exactly. */
    public record Recommendation(String meshYaml, String segmentsYaml, String intentsYaml, int segments, int intents,
                                 List<Widened> widened, List<String> unexpressible, int edgesUsed) { }

    private record Group(String namespace, String value) implements Comparable<Group> {
        /** The label value as a Kubernetes name (lower case, [a-z0-9-]). */
        String name() {
            String n = value.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9-]+", "-").replaceAll("^-+|-+$", "");
            return n.isEmpty() ? "group" : n;
        }

        @Override
        public int compareTo(Group o) {
            int c = namespace.compareTo(o.namespace);
            return c != 0 ? c : value.compareTo(o.value);
        }
    }

    private final String label;

    public IntentRecommender(String label) {
        this.label = Objects.requireNonNull(label);
    }

    /** @param edges the observed edges to allow (the caller chooses: allowed ones only, or denied ones too) */
    public Recommendation recommend(Mesh mesh, Collection<ObservedEdge> edges) {
        Map<String, Workload> workloads = new LinkedHashMap<>();
        mesh.workloads().forEach(w -> workloads.putIfAbsent(w.id(), w));
        List<String> unexpressible = new ArrayList<>();
        // destination group -> source group -> ports
        SortedMap<Group, SortedMap<Group, SortedSet<Integer>>> wanted = new TreeMap<>();
        Set<String> observed = new TreeSet<>();
        Map<Group, Map<Integer, Protocol>> protocols = new TreeMap<>();
        int used = 0;
        for (ObservedEdge e : edges) {
            Workload from = workloads.get(e.from());
            Workload to = workloads.get(e.to());
            if (from == null || to == null) {
                unexpressible.add(e.from() + " -> " + e.to() + ":" + e.port() + ": " + (from == null ? e.from() : e.to())
                        + " is not a workload of the inventory (only defaultAction: Allow or a namespace source could admit it)");
                continue;
            }
            Group src = group(from);
            Group dst = group(to);
            if (src == null || dst == null) {
                Workload missing = src == null ? from : to;
                unexpressible.add(e.from() + " -> " + e.to() + ":" + e.port() + ": " + missing.id() + " has no label '"
                        + label + "'; label it, or pick another with --label");
                continue;
            }
            used++;
            observed.add(key(e.from(), e.to(), e.port()));
            wanted.computeIfAbsent(dst, g -> new TreeMap<>()).computeIfAbsent(src, g -> new TreeSet<>()).add(e.port());
            protocols.computeIfAbsent(dst, g -> new TreeMap<>()).putIfAbsent(e.port(), protocol(to, e.port()));
        }

        SortedSet<Group> groups = new TreeSet<>();
        wanted.forEach((dst, sources) -> {
            groups.add(dst);
            groups.addAll(sources.keySet());
        });
        StringBuilder segments = new StringBuilder();
        for (Group g : groups) {
            doc(segments).append("kind: Segment\n")
                    .append("metadata: {name: ").append(g.name()).append(", namespace: ").append(g.namespace()).append("}\n")
                    .append("spec:\n  selector:\n    matchLabels: {").append(quote(label)).append(": ").append(quote(g.value())).append("}\n");
        }

        StringBuilder intents = new StringBuilder();
        int intentCount = 0;
        for (var dstEntry : wanted.entrySet()) {
            Group dst = dstEntry.getKey();
            // Sources that use the same ports share one intent: fewer intents, same meaning.
            SortedMap<String, List<Group>> byPorts = new TreeMap<>();
            dstEntry.getValue().forEach((src, ports) -> byPorts.computeIfAbsent(ports.toString(), p -> new ArrayList<>()).add(src));
            int n = 0;
            for (var portsEntry : byPorts.entrySet()) {
                List<Group> sources = portsEntry.getValue();
                SortedSet<Integer> ports = dstEntry.getValue().get(sources.getFirst());
                String name = byPorts.size() == 1 ? "allow-to-" + dst.name() : "allow-to-" + dst.name() + "-" + (++n);
                doc(intents).append("kind: Intent\n")
                        .append("metadata: {name: ").append(name).append(", namespace: ").append(dst.namespace()).append("}\n")
                        .append("spec:\n  action: Allow\n  mode: Enforce\n  from:\n");
                for (Group s : sources) {
                    intents.append("    - segment: ").append(s.namespace().equals(dst.namespace()) ? s.name() : s.namespace() + "/" + s.name()).append('\n');
                }
                intents.append("  to:\n    segment: ").append(dst.name()).append("\n    ports:\n");
                for (int p : ports) {
                    intents.append("      - port: ").append(p).append("\n        protocol: ")
                            .append(protocols.get(dst).get(p)).append('\n');
                }
                intentCount++;
            }
        }

        List<Widened> widened = widened(mesh, wanted, observed);
        String meshYaml = "apiVersion: septa.dev/v1alpha1\nkind: MeshConfig\nmetadata: {name: mesh}\nspec:\n"
                + "  trustDomain: " + mesh.config().trustDomain() + "\n"
                + "  defaultAction: Deny\n"
                + "  mtls: " + (mesh.config().mtls().name().charAt(0) + mesh.config().mtls().name().substring(1).toLowerCase()) + "\n";
        return new Recommendation(meshYaml, segments.toString(), intents.toString(), groups.size(), intentCount,
                widened, List.copyOf(unexpressible), used);
    }

    /** Every (source, destination, port) the groups admit that was not observed: members of a group, shared identities. */
    private List<Widened> widened(Mesh mesh, Map<Group, SortedMap<Group, SortedSet<Integer>>> wanted, Set<String> observed) {
        List<Widened> out = new ArrayList<>();
        for (var dstEntry : wanted.entrySet()) {
            List<Workload> dsts = mesh.workloads().stream().filter(w -> dstEntry.getKey().equals(group(w))).toList();
            for (var srcEntry : dstEntry.getValue().entrySet()) {
                Set<String> identities = new TreeSet<>();
                mesh.workloads().stream().filter(w -> srcEntry.getKey().equals(group(w)))
                        .forEach(w -> identities.add(w.metadata().namespace() + "/" + w.serviceAccount()));
                // RBAC sees identities: every workload carrying one of the group's identities is admitted as a source.
                List<Workload> srcs = mesh.workloads().stream()
                        .filter(w -> identities.contains(w.metadata().namespace() + "/" + w.serviceAccount())).toList();
                for (Workload s : srcs) {
                    for (Workload d : dsts) {
                        for (int port : srcEntry.getValue()) {
                            if (!observed.contains(key(s.id(), d.id(), port))) {
                                String because = !srcEntry.getKey().equals(group(s))
                                        ? s.id() + " shares its identity with segment " + srcEntry.getKey().name()
                                        : "segments " + srcEntry.getKey().name() + " and " + dstEntry.getKey().name()
                                                + " group workloads whose calls were not all observed";
                                out.add(new Widened(s.id(), d.id(), port, because));
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    private Group group(Workload w) {
        Map<String, String> labels = w.metadata().labels();
        String v = labels == null ? null : labels.get(label);
        return v == null || v.isEmpty() ? null : new Group(w.metadata().namespace(), v);
    }

    private static Protocol protocol(Workload w, int port) {
        return w.ports().stream().filter(p -> p.port() == port).map(WorkloadPort::protocol).findFirst().orElse(Protocol.TCP);
    }

    private static String key(String from, String to, int port) {
        return from + "|" + to + "|" + port;
    }

    private static StringBuilder doc(StringBuilder sb) {
        if (!sb.isEmpty()) {
            sb.append("---\n");
        }
        return sb.append("apiVersion: septa.dev/v1alpha1\n");
    }

    /** A YAML scalar: plain when safe, else double-quoted. */
    private static String quote(String s) {
        return s.matches("[A-Za-z0-9][A-Za-z0-9._/-]*") ? s : '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
