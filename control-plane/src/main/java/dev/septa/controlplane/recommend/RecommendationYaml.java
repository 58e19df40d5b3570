package dev.septa.controlplane.recommend;

import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.Protocol;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Writes the recommended rules as Septa YAML: the MeshConfig ({@code defaultAction: Deny}), one Segment per unit used,
 * and per destination segment one Allow intent per set of port rules, naming every source segment with exactly those
 * rules (merging sources that made the same calls widens nothing). Each intent says in a comment how many calls and
 * observed edges it is built from; one built from fewer than the rare threshold is marked {@code RARE}.
 */
final class RecommendationYaml {
    private record PortRules(Protocol protocol, HttpRules http, long calls, int edges) { }

    private final Mesh mesh;
    private final IntentRecommender.Options options;
    private final SortedMap<SegmentUnit, SortedMap<SegmentUnit, SortedMap<Integer, PortRules>>> byDestination = new TreeMap<>();
    private final SortedSet<SegmentUnit> used = new TreeSet<>();
    private final List<IntentRecommender.IntentSummary> summaries = new ArrayList<>();
    private String intents;

    RecommendationYaml(Mesh mesh, IntentRecommender.Options options) {
        this.mesh = mesh;
        this.options = options;
    }

    void add(SegmentUnit src, SegmentUnit dst, int port, Protocol protocol, HttpRules http, long calls, int edges) {
        byDestination.computeIfAbsent(dst, d -> new TreeMap<>()).computeIfAbsent(src, s -> new TreeMap<>())
                .put(port, new PortRules(protocol, http, calls, edges));
        used.add(src);
        used.add(dst);
    }

    String meshYaml() {
        String mtls = mesh.config().mtls().name();
        return "apiVersion: septa.dev/v1alpha1\nkind: MeshConfig\nmetadata: {name: mesh}\nspec:\n"
                + "  trustDomain: " + mesh.config().trustDomain() + "\n"
                + "  defaultAction: Deny\n"
                + "  mtls: " + mtls.charAt(0) + mtls.substring(1).toLowerCase(java.util.Locale.ROOT) + "\n";
    }

    int segmentCount() {
        return used.size();
    }

    String segmentsYaml() {
        StringBuilder sb = new StringBuilder();
        for (SegmentUnit u : used) {
            doc(sb).append("kind: Segment\n")
                    .append("metadata: {name: ").append(u.name()).append(", namespace: ").append(u.namespace()).append("}\n")
                    .append("spec:\n");
            String selector = u.selectorYaml();
            sb.append(selector.isEmpty() ? "  selector: {}\n" : "  selector:\n" + selector);
        }
        return sb.toString();
    }

    String intentsYaml() {
        if (intents == null) {
            intents = buildIntents();
        }
        return intents;
    }

    List<IntentRecommender.IntentSummary> summaries() {
        intentsYaml();
        return List.copyOf(summaries);
    }

    private String buildIntents() {
        StringBuilder sb = new StringBuilder();
        for (var dstEntry : byDestination.entrySet()) {
            SegmentUnit dst = dstEntry.getKey();
            // Sources with the same port rules share one intent.
            SortedMap<String, List<SegmentUnit>> bySameRules = new TreeMap<>();
            dstEntry.getValue().forEach((src, ports) -> bySameRules.computeIfAbsent(key(ports), k -> new ArrayList<>()).add(src));
            int n = 0;
            for (List<SegmentUnit> sources : bySameRules.values()) {
                SortedMap<Integer, PortRules> ports = dstEntry.getValue().get(sources.getFirst());
                // One source: "<source>-to-<destination>"; sources merged: "allow-to-<destination>[-N]".
                String name = sources.size() == 1
                        ? (sources.getFirst().namespace().equals(dst.namespace()) ? "" : sources.getFirst().namespace() + "-")
                                + sources.getFirst().name() + "-to-" + dst.name()
                        : "allow-to-" + dst.name() + (++n == 1 ? "" : "-" + n);
                long calls = 0;
                int edges = 0;
                for (SegmentUnit s : sources) {
                    for (PortRules p : dstEntry.getValue().get(s).values()) {
                        calls += p.calls();
                        edges += p.edges();
                    }
                }
                boolean rare = calls < options.rareBelow();
                summaries.add(new IntentRecommender.IntentSummary(dst.namespace() + "/" + name, calls, edges, rare));
                if (!sb.isEmpty()) {
                    sb.append("---\n");
                }
                sb.append("# built from ").append(calls).append(" calls on ").append(edges).append(" observed edges\n");
                if (rare) {
                    sb.append("# RARE: fewer than ").append(options.rareBelow()).append(" calls in the window; review before applying\n");
                }
                sb.append("apiVersion: septa.dev/v1alpha1\nkind: Intent\n")
                        .append("metadata: {name: ").append(name).append(", namespace: ").append(dst.namespace()).append("}\n")
                        .append("spec:\n  action: Allow\n  mode: Enforce\n  from:\n");
                sources.forEach(s -> sb.append("    - segment: ").append(s.refFrom(dst.namespace())).append('\n'));
                sb.append("  to:\n    segment: ").append(dst.name()).append("\n    ports:\n");
                ports.forEach((port, rules) -> portEntries(sb, port, rules));
            }
        }
        return sb.toString();
    }

    private static void portEntries(StringBuilder sb, int port, PortRules rules) {
        if (rules.http().any()) {
            sb.append("      - port: ").append(port).append("\n        protocol: ").append(rules.protocol()).append('\n');
            return;
        }
        for (Map.Entry<List<String>, List<String>> e : rules.http().entries()) {
            sb.append("      - port: ").append(port).append("\n        protocol: ").append(rules.protocol()).append('\n')
                    .append("        http:\n");
            if (!e.getKey().isEmpty()) {
                sb.append("          methods: [").append(String.join(", ", e.getKey().stream().map(Yaml::scalar).toList())).append("]\n");
            }
            sb.append("          paths: [").append(String.join(", ", e.getValue().stream().map(Yaml::quoted).toList())).append("]\n");
        }
    }

    private static String key(SortedMap<Integer, PortRules> ports) {
        StringBuilder k = new StringBuilder();
        ports.forEach((port, r) -> k.append(port).append(r.protocol()).append(r.http().key()).append(';'));
        return k.toString();
    }

    private static StringBuilder doc(StringBuilder sb) {
        if (!sb.isEmpty()) {
            sb.append("---\n");
        }
        return sb.append("apiVersion: septa.dev/v1alpha1\n");
    }
}
