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
 * {@code septa recommend}: from the observed edges, Segments and Intents (defaultAction Deny) that allow the observed
 * calls at the level they were observed (port, and for HTTP/gRPC the methods and paths sampled) and deny the calls that
 * were observed denied.
 *
 * <p>How it groups, per destination label group and port: the sources of one label group share a rule when every
 * member made the same calls to every member of the destination group (so the grouping admits nothing unseen) and no
 * call the rule admits was observed denied. Otherwise the rule is split into the finest segments labels can express
 * (workloads with equal labels). Sibling paths ({@code /svc/A}, {@code /svc/B}) fold into a prefix {@code /svc/*} when
 * at least {@link #MIN_SIBLINGS} were seen and the prefix admits no request observed denied there (not with
 * {@code exact}). Whatever still admits more than was seen (a prefix, a shared identity, workloads whose labels are
 * equal) is listed as {@link Widened}, one per (source, destination, port). The recommendation is then checked against
 * the observed edges by {@link RecommendationCheck}, the evaluation of {@code septa check --impact}.
 */
public final class IntentRecommender {
    /** Intents built from fewer calls in the window than this are marked rare (a path seen a few times is not policy yet). */
    public static final long RARE_BELOW = 10;
    /** Sibling paths needed before they fold into a prefix. */
    public static final int MIN_SIBLINGS = 2;

    /**
     * @param exact never widen: no prefixes; a widening that labels or identities force is then a refusal
     * @param includeDenied allow the observed-denied calls too
     */
    public record Options(String label, boolean exact, boolean includeDenied, long rareBelow) {
        public Options {
            Objects.requireNonNull(label);
        }

        public static Options defaults() {
            return new Options("app", false, false, RARE_BELOW);
        }
    }

    /** A (source, destination, port) the recommendation admits more on than was observed, and why. */
    public record Widened(String from, String to, int port, String because) {
        @Override
        public String toString() {
            return from + " -> " + to + ":" + port + ": " + because;
        }
    }

    /**
     * A request observed both allowed and denied on one (source, destination, port) in the window, e.g. while a policy
     * change was being pushed: it is left denied (null request: the pair's calls without samples).
     */
    public record Contradiction(String from, String to, int port, ObservedEdge.Request request, long allowedCalls, long deniedCalls) {
        boolean matches(ImpactAnalyzer.Change c) {
            ObservedEdge e = c.edge();
            return e.from().equals(from) && e.to().equals(to) && e.port() == port && java.util.Objects.equals(c.request(), request);
        }

        @Override
        public String toString() {
            return from + " -> " + to + ":" + port + (request == null ? "" : " " + request) + " allowed " + allowedCalls
                    + " and denied " + deniedCalls + " calls in the window (a verdict changed within it, e.g. while a policy was pushed): kept denied";
        }
    }

    /** One written intent: its name, the calls of the window and the observed edges it is built from. */
    public record IntentSummary(String name, long calls, int edges, boolean rare) { }

    /** What to write (YAML documents, {@code ---}-separated) and what it could not say exactly. */
    public record Recommendation(String meshYaml, String segmentsYaml, String intentsYaml, int segments,
                                 List<IntentSummary> intents, List<Widened> widened, List<String> unexpressible,
                                 List<String> incompleteSamples, List<Contradiction> contradictions, int edgesUsed) {
        public String allYaml() {
            return meshYaml + "---\n" + segmentsYaml + (intentsYaml.isEmpty() ? "" : "---\n" + intentsYaml);
        }
    }

    private record Pair(String from, String to, int port) implements Comparable<Pair> {
        @Override
        public int compareTo(Pair o) {
            return toString().compareTo(o.toString());
        }
    }

    /** The calls observed on one pair: their requests (or any), counts and edges. */
    private static final class Calls {
        boolean any;
        final SortedSet<ObservedEdge.Request> requests = new TreeSet<>();
        long calls;
        int edges;

        void add(ObservedEdge e) {
            if (e.requests().isEmpty()) {
                any = true;
            }
            requests.addAll(e.requests());
            calls += e.calls();
            edges++;
        }

        void addAll(Calls c) {
            any |= c.any;
            requests.addAll(c.requests);
            calls += c.calls;
            edges += c.edges;
        }

        HttpRules http() {
            return any ? HttpRules.ANY : HttpRules.of(new TreeSet<>(requests));
        }
    }

    private record Rule(SegmentUnit src, SegmentUnit dst, int port, HttpRules http, Map<String, List<String>> prefixes) { }

    private final Options options;

    public IntentRecommender(Options options) {
        this.options = Objects.requireNonNull(options);
    }

    public Recommendation recommend(Mesh mesh, Collection<ObservedEdge> edges) {
        Map<String, Workload> workloads = new LinkedHashMap<>();
        mesh.workloads().forEach(w -> workloads.putIfAbsent(w.id(), w));
        SegmentUnits units = new SegmentUnits(mesh, options.label());
        List<String> unexpressible = new ArrayList<>();
        Set<String> incomplete = new TreeSet<>();
        SortedMap<Pair, Calls> wanted = new TreeMap<>();
        SortedMap<Pair, Calls> denied = new TreeMap<>();
        int used = 0;
        for (ObservedEdge e : edges) {
            boolean allow = e.allowed() || options.includeDenied();
            if (!workloads.containsKey(e.from()) || !workloads.containsKey(e.to())) {
                if (allow) {
                    String missing = workloads.containsKey(e.from()) ? e.to() : e.from();
                    unexpressible.add(e.pair() + ": " + missing + " is not a workload of the inventory "
                            + "(only defaultAction: Allow or a namespace source could admit it)");
                }
                continue;
            }
            (allow ? wanted : denied).computeIfAbsent(new Pair(e.from(), e.to(), e.port()), p -> new Calls()).add(e);
            if (allow) {
                used++;
                if (!e.samplesComplete()) {
                    incomplete.add(e.pair() + ": the graph keeps " + ObservedEdge.GRAPH_SAMPLE_LIMIT
                            + " requests per edge; paths beyond the sampled ones would be denied");
                }
            }
        }

        List<Contradiction> contradictions = removeContradictions(wanted, denied, edges);
        List<Rule> rules = rules(units, wanted, denied);
        List<Widened> widened = new ArrayList<>();
        for (Rule r : rules) {
            widened.addAll(widenings(r, wanted));
        }
        RecommendationYaml yaml = new RecommendationYaml(mesh, options);
        for (Rule r : rules) {
            Calls c = new Calls();
            wanted.forEach((p, calls) -> {
                if (p.port() == r.port() && r.src().contains(p.from()) && r.dst().contains(p.to())) {
                    c.addAll(calls);
                }
            });
            yaml.add(r.src(), r.dst(), r.port(), protocol(workloads.get(r.dst().members().getFirst().id()), r.port()), r.http(),
                    c.calls, c.edges);
        }
        return new Recommendation(yaml.meshYaml(), yaml.segmentsYaml(), yaml.intentsYaml(), yaml.segmentCount(),
                yaml.summaries(), List.copyOf(widened), List.copyOf(unexpressible), List.copyOf(incomplete), contradictions, used);
    }

    /** Takes out of {@code wanted} the requests also observed denied on the same pair, and lists them. */
    private static List<Contradiction> removeContradictions(SortedMap<Pair, Calls> wanted, SortedMap<Pair, Calls> denied,
                                                            Collection<ObservedEdge> edges) {
        List<Contradiction> out = new ArrayList<>();
        for (var it = wanted.entrySet().iterator(); it.hasNext(); ) {
            var w = it.next();
            Calls d = denied.get(w.getKey());
            if (d == null) {
                continue;
            }
            Pair p = w.getKey();
            if (w.getValue().any && d.any) {
                out.add(new Contradiction(p.from(), p.to(), p.port(), null, w.getValue().calls, d.calls));
                w.getValue().any = false;
            }
            for (var r = w.getValue().requests.iterator(); r.hasNext(); ) {
                ObservedEdge.Request q = r.next();
                if (d.requests.contains(q)) {
                    out.add(new Contradiction(p.from(), p.to(), p.port(), q, calls(edges, p, q, true), calls(edges, p, q, false)));
                    r.remove();
                }
            }
            if (!w.getValue().any && w.getValue().requests.isEmpty()) {
                it.remove();
            }
        }
        return List.copyOf(out);
    }

    private static long calls(Collection<ObservedEdge> edges, Pair p, ObservedEdge.Request q, boolean allowed) {
        return edges.stream().filter(e -> e.allowed() == allowed && e.from().equals(p.from()) && e.to().equals(p.to())
                && e.port() == p.port() && e.requests().contains(q)).mapToLong(ObservedEdge::calls).sum();
    }

    /** The rules, per destination label group and port: grouped where exact, else split into finest segments. */
    private List<Rule> rules(SegmentUnits units, SortedMap<Pair, Calls> wanted, SortedMap<Pair, Calls> denied) {
        // destination group + port -> source group -> pairs
        Map<String, Map<SegmentUnit, List<Pair>>> byTarget = new TreeMap<>();
        Map<String, SegmentUnit> targetUnit = new TreeMap<>();
        for (Pair p : wanted.keySet()) {
            SegmentUnit dst = units.group(p.to());
            String key = dst.qualifiedName() + ":" + p.port();
            targetUnit.put(key, dst);
            byTarget.computeIfAbsent(key, k -> new TreeMap<>()).computeIfAbsent(units.group(p.from()), s -> new ArrayList<>()).add(p);
        }
        List<Rule> rules = new ArrayList<>();
        for (var target : byTarget.entrySet()) {
            SegmentUnit dst = targetUnit.get(target.getKey());
            for (var source : target.getValue().entrySet()) {
                SegmentUnit src = source.getKey();
                List<Pair> pairs = source.getValue();
                int port = pairs.getFirst().port();
                Calls union = new Calls();
                pairs.forEach(p -> union.addAll(wanted.get(p)));
                HttpRules http = union.http();
                if (sameCalls(src, dst, port, http, wanted) && deniedAdmitted(src, dst, port, http, denied).isEmpty()) {
                    rules.add(fold(src, dst, port, http, denied));
                    continue;
                }
                // Split into the finest segments: a label group whose members differ must not pass one's calls to all.
                Map<String, Calls> split = new TreeMap<>();
                Map<String, SegmentUnit[]> splitUnits = new TreeMap<>();
                for (Pair p : pairs) {
                    SegmentUnit s = units.finest(p.from());
                    SegmentUnit d = units.finest(p.to());
                    String k = s.qualifiedName() + ">" + d.qualifiedName();
                    split.computeIfAbsent(k, x -> new Calls()).addAll(wanted.get(p));
                    splitUnits.put(k, new SegmentUnit[] {s, d});
                }
                split.forEach((k, calls) -> {
                    SegmentUnit[] sd = splitUnits.get(k);
                    rules.add(fold(sd[0], sd[1], port, calls.http(), denied));
                });
            }
        }
        return rules;
    }

    private Rule fold(SegmentUnit src, SegmentUnit dst, int port, HttpRules http, SortedMap<Pair, Calls> denied) {
        Map<String, List<String>> prefixes = new TreeMap<>();
        if (options.exact()) {
            return new Rule(src, dst, port, http, prefixes);
        }
        List<ObservedEdge.Request> deniedHere = new ArrayList<>();
        denied.forEach((p, c) -> {
            if (p.port() == port && src.admittedSources().contains(p.from()) && dst.contains(p.to())) {
                deniedHere.addAll(c.requests);
            }
        });
        return new Rule(src, dst, port, http.foldPrefixes(MIN_SIBLINGS, deniedHere, prefixes), prefixes);
    }

    /** True when every member of {@code src} made exactly {@code http}'s calls to every member of {@code dst}. */
    private static boolean sameCalls(SegmentUnit src, SegmentUnit dst, int port, HttpRules http, Map<Pair, Calls> wanted) {
        for (Workload s : src.members()) {
            for (Workload d : dst.members()) {
                Calls c = wanted.get(new Pair(s.id(), d.id(), port));
                if (c == null || !c.http().key().equals(http.key())) {
                    return false;
                }
            }
        }
        return true;
    }

    private static List<Pair> deniedAdmitted(SegmentUnit src, SegmentUnit dst, int port, HttpRules http, Map<Pair, Calls> denied) {
        List<Pair> out = new ArrayList<>();
        denied.forEach((p, c) -> {
            if (p.port() == port && src.admittedSources().contains(p.from()) && dst.contains(p.to())
                    && (c.any ? http.admits(null) : c.requests.stream().anyMatch(http::admits))) {
                out.add(p);
            }
        });
        return out;
    }

    /** Every (source, destination, port) the rule admits beyond what was observed on it, with the reasons. */
    private static List<Widened> widenings(Rule r, Map<Pair, Calls> wanted) {
        List<Widened> out = new ArrayList<>();
        for (String s : r.src().admittedSources()) {
            for (Workload d : r.dst().members()) {
                Calls seen = wanted.get(new Pair(s, d.id(), r.port()));
                List<String> reasons = new ArrayList<>();
                boolean member = r.src().contains(s);
                String more = seen == null ? "never observed"
                        : r.http().any() && !seen.any ? "any request, only " + seen.requests + " observed"
                        : unseen(r.http(), seen);
                if (more != null) {
                    reasons.add(more + (member
                            ? "; segments " + r.src().qualifiedName() + " " + r.src().memberIds() + " -> " + r.dst().qualifiedName()
                                + " " + r.dst().memberIds() + " cannot tell these workloads apart (equal labels)"
                            : "; " + s + " shares an identity with segment " + r.src().qualifiedName()));
                }
                r.prefixes().forEach((prefix, siblings) -> reasons.add("prefix " + prefix.substring(prefix.indexOf('|') + 1)
                        + " admits paths never observed (folded from " + siblings + ")"));
                if (!reasons.isEmpty()) {
                    out.add(new Widened(s, d.id(), r.port(), String.join("; ", reasons)));
                }
            }
        }
        return out;
    }

    /** The exact requests of {@code rule} not observed on a pair, or null when all were. */
    private static String unseen(HttpRules rule, Calls seen) {
        if (rule.any() || seen.any) {
            return null;
        }
        List<String> missing = rule.requests().stream().filter(q -> !seen.requests.contains(q)).map(Object::toString).toList();
        return missing.isEmpty() ? null : "also " + missing + ", not observed here";
    }

    private static Protocol protocol(Workload w, int port) {
        return w.ports().stream().filter(p -> p.port() == port).map(WorkloadPort::protocol).findFirst().orElse(Protocol.TCP);
    }
}
