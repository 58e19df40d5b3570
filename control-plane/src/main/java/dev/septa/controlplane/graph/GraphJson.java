package dev.septa.controlplane.graph;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The shape of {@code GET /api/graph} and of each {@code graph} event on {@code /api/graph/events}: the nodes
 * (workloads, with namespace and segment for grouping), the edges of the window, and the counters that say how
 * complete the picture is (shed by the flood guard, dropped at the edge cap, refused as malformed).
 */
@Serdeable
public record GraphJson(String generatedAt, long windowSeconds, long version, List<String> namespaces,
                        List<Node> nodes, List<Edge> edges, Counters counters) {

    /** @param quarantine the reason when the workload is quarantined ({@code septa quarantine}), else null */
    @Serdeable
    public record Node(String id, String namespace, String name, @Nullable String segment, boolean external,
                       @Nullable String quarantine) {
        @io.micronaut.core.annotation.Creator
        public Node {
        }

        public Node(String id, String namespace, String name, String segment, boolean external) {
            this(id, namespace, name, segment, external, null);
        }
    }

    /**
     * @param verdict {@code ALLOW} or {@code DENY}
     * @param decidedBy the intent that decided ({@code ns/name}) or {@code default}; null if unknown
     * @param wouldDenyBy the DryRun Deny intent that would have denied these calls, or null
     * @param samples the first few distinct requests seen on the edge, {@code METHOD /path} (empty for TCP)
     */
    @Serdeable
    public record Edge(String id, String source, String target, int port, String verdict, @Nullable String decidedBy,
                       @Nullable String wouldDenyBy, long requests, double ratePerSecond, String lastSeen,
                       @Nullable List<String> samples) {
        @io.micronaut.core.annotation.Creator
        public Edge {
            samples = samples == null ? List.of() : List.copyOf(samples);
        }

        public Edge(String id, String source, String target, int port, String verdict, String decidedBy,
                    String wouldDenyBy, long requests, double ratePerSecond, String lastSeen) {
            this(id, source, target, port, verdict, decidedBy, wouldDenyBy, requests, ratePerSecond, lastSeen, List.of());
        }
    }

    @Serdeable
    public record Counters(long recorded, long shed, long droppedEdgeCap, long refusedMessages, long malformedEntries,
                           long evictedEdges) {
    }

    /** Filters: null or empty means all. {@code verdict} is ALLOW, DENY or WOULD_DENY (edges with a DryRun deny). */
    public record Filter(@Nullable Set<String> namespaces, @Nullable String verdict) {
        public static final Filter ALL = new Filter(null, null);

        boolean admitsNamespace(String ns) {
            return namespaces == null || namespaces.isEmpty() || namespaces.contains(ns);
        }

        boolean admits(TrafficGraph.Edge e) {
            if (!admitsNamespace(e.source().namespace()) && !admitsNamespace(e.destination().namespace())) {
                return false;
            }
            if (verdict == null || verdict.isEmpty()) {
                return true;
            }
            return switch (verdict.toUpperCase(java.util.Locale.ROOT)) {
                case "WOULD_DENY" -> e.wouldDenyBy() != null;
                default -> e.verdict().name().equalsIgnoreCase(verdict);
            };
        }
    }

    public static GraphJson from(TrafficGraph.Snapshot s, Collection<WorkloadRef> inventory, Filter filter) {
        return from(s, inventory, filter, Map.of());
    }

    /** @param quarantines the reason of each quarantined workload, by node id */
    public static GraphJson from(TrafficGraph.Snapshot s, Collection<WorkloadRef> inventory, Filter filter,
                                 Map<String, String> quarantines) {
        Map<String, Node> nodes = new LinkedHashMap<>();
        Set<String> namespaces = new TreeSet<>();
        for (WorkloadRef w : inventory) {
            namespaces.add(w.namespace());
            if (filter.admitsNamespace(w.namespace())) {
                nodes.putIfAbsent(w.id(), node(w));
            }
        }
        List<Edge> edges = new ArrayList<>();
        for (TrafficGraph.Edge e : s.edges()) {
            namespaces.add(e.source().namespace());
            namespaces.add(e.destination().namespace());
            if (!filter.admits(e)) {
                continue;
            }
            // An edge brings both its ends, even from a namespace the filter hides, so it never dangles.
            nodes.putIfAbsent(e.source().id(), node(e.source()));
            nodes.putIfAbsent(e.destination().id(), node(e.destination()));
            edges.add(new Edge(e.id(), e.source().id(), e.destination().id(), e.port(), e.verdict().name(), e.decidedBy(),
                    e.wouldDenyBy(), e.requests(), Math.round(e.ratePerSecond() * 1000) / 1000.0, e.lastSeen().toString(),
                    e.samples()));
        }
        if (!quarantines.isEmpty()) {
            nodes.replaceAll((id, n) -> quarantines.containsKey(id)
                    ? new Node(n.id(), n.namespace(), n.name(), n.segment(), n.external(), quarantines.get(id)) : n);
        }
        List<Node> sortedNodes = new ArrayList<>(nodes.values());
        sortedNodes.sort(java.util.Comparator.comparing(Node::id));
        var c = s.counters();
        return new GraphJson(s.at().toString(), s.window().toSeconds(), s.version(), List.copyOf(namespaces),
                List.copyOf(sortedNodes), List.copyOf(edges),
                new Counters(c.recorded(), c.shed(), c.droppedEdgeCap(), c.refusedMessages(), c.malformedEntries(), c.evictedEdges()));
    }

    private static Node node(WorkloadRef w) {
        return new Node(w.id(), w.namespace(), w.name(), w.segment(), w.external());
    }
}
