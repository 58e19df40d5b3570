package dev.septa.controlplane.recommend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.policy.check.Checker;
import dev.septa.policy.check.Query;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.Dialect;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.parse.InputFile;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Generated meshes: a random inventory, a random policy in force, random calls whose verdicts that policy decides (as
 * the graph would record them, at most 8 sampled requests per edge). The recommendation, compiled with the inventory
 * as {@code septa check --impact -f DIR inventory} would, then newly allows no observed-denied call and newly denies no
 * observed-allowed one; and every (source, destination, port) it allows that was not observed allowed is printed as a
 * widening. {@code --exact} never folds a prefix.
 */
class RecommendRoundTripPropertyTest {
    static final String[] APPS = {"a", "b", "c", "d"};
    static final String[] PATHS = {"/v1/items", "/v1/orders", "/v1/users", "/admin/x", "/health", "/v2/items/list"};
    static final String[] METHODS = {"GET", "POST"};
    static final int[][] PORTS = {{80, 0}, {90, 1}, {70, 2}}; // HTTP, GRPC, TCP
    static final String[] PROTOCOLS = {"HTTP", "GRPC", "TCP"};

    /** How many generated cases exercised each path, so that the property cannot pass vacuously. */
    static final java.util.concurrent.ConcurrentHashMap<String, Integer> EXERCISED = new java.util.concurrent.ConcurrentHashMap<>();

    @org.junit.jupiter.api.AfterAll
    static void everyPathWasExercised() {
        assertThat(EXERCISED).as("cases per path").containsKeys("prefix", "widened", "finest segment", "denied kept denied",
                "path-scoped rule", "port rule");
    }

    static Stream<Long> seeds() {
        return IntStream.rangeClosed(1, 150).mapToObj(i -> (long) i);
    }

    record Generated(String inventory, String policy, List<ObservedEdge> observed) { }

    record W(String ns, String name, String app, String tier, List<Integer> ports) {
        String id() {
            return ns + "/" + name;
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void recommendationChangesNoObservedVerdictAndPrintsEveryWidening(long seed) {
        Random rnd = new Random(seed);
        List<W> workloads = workloads(rnd);
        String inventory = inventory(workloads);
        String policy = policy(rnd, workloads);
        CompiledMesh inForce = compile(inventory + "---\n" + policy);
        List<ObservedEdge> observed = observe(rnd, workloads, new Checker(inForce, Dialect.ENVOY));

        for (boolean exact : new boolean[] {false, true}) {
            var options = new IntentRecommender.Options("app", exact, false, IntentRecommender.RARE_BELOW);
            IntentRecommender.Recommendation r = new IntentRecommender(options).recommend(inForce.mesh(), observed);
            String context = "seed " + seed + (exact ? " --exact" : "") + "\n" + inventory + "---\n" + policy + "\nobserved " + observed
                    + "\nrecommended:\n" + r.allYaml();
            assertThat(r.contradictions()).as(context).isEmpty();
            // The self-check, and the same evaluation on the files as septa check --impact reads them.
            assertThat(RecommendationCheck.check(inForce.mesh(), r, observed, false).unexpected()).as(context).isEmpty();
            CompiledMesh recommended = compile(inventory + "---\n" + r.allYaml());
            for (Dialect d : Dialect.values()) {
                var impact = ImpactAnalyzer.analyze(new Checker(recommended, d), observed);
                assertThat(impact.changes()).as(context).isEmpty();
            }
            if (exact) {
                assertThat(r.intentsYaml()).as(context).doesNotContain("*\"");
            }
            count(r.intentsYaml().contains("*\""), "prefix");
            count(!r.widened().isEmpty(), "widened");
            count(r.segmentsYaml().contains("tier"), "finest segment");
            count(observed.stream().anyMatch(e -> !e.allowed()), "denied kept denied");
            count(r.intentsYaml().contains("paths:"), "path-scoped rule");
            count(r.intentsYaml().contains("protocol: TCP"), "port rule");
            assertAllowedBeyondObservedIsPrinted(workloads, observed, recommended, r, context);
        }
    }

    private static void count(boolean happened, String what) {
        if (happened) {
            EXERCISED.merge(what, 1, Integer::sum);
        }
    }

    /** Every pair the recommendation allows any request on, unless observed allowed there, is a printed widening. */
    private static void assertAllowedBeyondObservedIsPrinted(List<W> workloads, List<ObservedEdge> observed, CompiledMesh recommended,
                                                            IntentRecommender.Recommendation r, String context) {
        Set<String> observedAllowed = new TreeSet<>();
        observed.stream().filter(ObservedEdge::allowed).forEach(e -> observedAllowed.add(e.pair()));
        Set<String> widened = new TreeSet<>();
        r.widened().forEach(w -> widened.add(w.from() + " -> " + w.to() + ":" + w.port()));
        Checker checker = new Checker(recommended, Dialect.ENVOY);
        for (W s : workloads) {
            for (W d : workloads) {
                for (int port : d.ports()) {
                    String pair = s.id() + " -> " + d.id() + ":" + port;
                    if (observedAllowed.contains(pair)) {
                        continue;
                    }
                    List<Query> queries = new ArrayList<>();
                    queries.add(new Query(s.id(), d.id(), port, null, null));
                    for (String m : METHODS) {
                        for (String p : PATHS) {
                            queries.add(new Query(s.id(), d.id(), port, m, p));
                        }
                    }
                    boolean allowed = queries.stream().anyMatch(q -> checker.check(q).allowed());
                    if (allowed) {
                        assertThat(widened).as(pair + " is allowed but not printed as widened\n" + context).contains(pair);
                    }
                }
            }
        }
    }

    static List<W> workloads(Random rnd) {
        List<W> out = new ArrayList<>();
        int n = 3 + rnd.nextInt(6);
        for (int i = 0; i < n; i++) {
            String ns = rnd.nextInt(3) == 0 ? "n1" : "n0";
            String app = APPS[rnd.nextInt(APPS.length)];
            String tier = rnd.nextBoolean() ? null : (rnd.nextBoolean() ? "x" : "y");
            List<Integer> ports = new ArrayList<>();
            for (int[] p : PORTS) {
                if (rnd.nextInt(2) == 0 || ports.isEmpty() && p == PORTS[PORTS.length - 1]) {
                    ports.add(p[0]);
                }
            }
            out.add(new W(ns, app + "-" + i, app, tier, ports));
        }
        return out;
    }

    static String inventory(List<W> workloads) {
        StringBuilder sb = new StringBuilder();
        for (W w : workloads) {
            if (!sb.isEmpty()) {
                sb.append("---\n");
            }
            int i = workloads.indexOf(w);
            // The identity follows the app label: a policy on labels can then always be told apart by identity.
            sb.append("apiVersion: septa.dev/v1alpha1\nkind: Workload\nmetadata: {name: ").append(w.name()).append(", namespace: ")
                    .append(w.ns()).append(", labels: {app: ").append(w.app()).append(w.tier() == null ? "" : ", tier: " + w.tier())
                    .append("}}\nspec:\n  serviceAccount: ").append(w.app()).append("\n  address: 127.0.3.").append(i + 1)
                    .append("\n  ports: [");
            sb.append(String.join(", ", w.ports().stream().map(p -> "{name: p" + p + ", port: " + p + ", protocol: "
                    + PROTOCOLS[portIndex(p)] + "}").toList())).append("]\n");
        }
        return sb.toString();
    }

    static int portIndex(int port) {
        for (int[] p : PORTS) {
            if (p[0] == port) {
                return p[1];
            }
        }
        throw new IllegalArgumentException();
    }

    /** Segments by app and by app+tier in each namespace, and a few random Allow and Deny intents. */
    static String policy(Random rnd, List<W> workloads) {
        StringBuilder sb = new StringBuilder("apiVersion: septa.dev/v1alpha1\nkind: MeshConfig\nmetadata: {name: mesh}\nspec:\n"
                + "  trustDomain: cluster.local\n  defaultAction: Deny\n  mtls: Strict\n");
        List<String> segments = new ArrayList<>();
        for (String ns : List.of("n0", "n1")) {
            for (String app : APPS) {
                segments.add(ns + "/s-" + app);
                sb.append("---\napiVersion: septa.dev/v1alpha1\nkind: Segment\nmetadata: {name: s-").append(app)
                        .append(", namespace: ").append(ns).append("}\nspec:\n  selector:\n    matchLabels: {app: ").append(app).append("}\n");
                for (String tier : List.of("x", "y")) {
                    segments.add(ns + "/s-" + app + "-" + tier);
                    sb.append("---\napiVersion: septa.dev/v1alpha1\nkind: Segment\nmetadata: {name: s-").append(app).append("-")
                            .append(tier).append(", namespace: ").append(ns).append("}\nspec:\n  selector:\n    matchLabels: {app: ")
                            .append(app).append(", tier: ").append(tier).append("}\n");
                }
            }
        }
        int intents = 2 + rnd.nextInt(6);
        for (int i = 0; i < intents; i++) {
            String to = segments.get(rnd.nextInt(segments.size()));
            String ns = to.substring(0, to.indexOf('/'));
            String from = rnd.nextInt(6) == 0 ? "namespace: " + (rnd.nextBoolean() ? "n0" : "n1")
                    : "segment: " + segments.get(rnd.nextInt(segments.size()));
            sb.append("---\napiVersion: septa.dev/v1alpha1\nkind: Intent\nmetadata: {name: i").append(i).append(", namespace: ")
                    .append(ns).append("}\nspec:\n  action: ").append(rnd.nextInt(4) == 0 ? "Deny" : "Allow")
                    .append("\n  from:\n    - ").append(from).append("\n  to:\n    segment: ").append(to.substring(ns.length() + 1));
            if (rnd.nextInt(4) != 0) {
                sb.append("\n    ports:");
                int[] p = PORTS[rnd.nextInt(PORTS.length)];
                sb.append("\n      - port: ").append(p[0]).append("\n        protocol: ").append(PROTOCOLS[p[1]]);
                if (p[1] != 2 && rnd.nextBoolean()) {
                    sb.append("\n        http:");
                    if (rnd.nextBoolean()) {
                        sb.append("\n          methods: [").append(METHODS[rnd.nextInt(2)]).append("]");
                    }
                    String path = rnd.nextInt(3) == 0 ? "/v1/*" : PATHS[rnd.nextInt(PATHS.length)];
                    sb.append("\n          paths: [\"").append(path).append("\"]");
                }
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** Random calls, decided by the policy in force, aggregated as the graph does: per pair and verdict, 8 samples at most. */
    static List<ObservedEdge> observe(Random rnd, List<W> workloads, Checker inForce) {
        Map<String, List<ObservedEdge.Request>> samples = new TreeMap<>();
        Map<String, Long> calls = new LinkedHashMap<>();
        int n = 5 + rnd.nextInt(30);
        for (int i = 0; i < n; i++) {
            W s = workloads.get(rnd.nextInt(workloads.size()));
            W d = workloads.get(rnd.nextInt(workloads.size()));
            int port = d.ports().get(rnd.nextInt(d.ports().size()));
            int requests = portIndex(port) == 2 ? 1 : 1 + rnd.nextInt(3);
            for (int k = 0; k < requests; k++) {
                ObservedEdge.Request q = portIndex(port) == 2 ? null
                        : new ObservedEdge.Request(METHODS[rnd.nextInt(2)], PATHS[rnd.nextInt(PATHS.length)]);
                boolean allowed = inForce.check(new Query(s.id(), d.id(), port, q == null ? null : q.method(),
                        q == null ? null : q.path())).allowed();
                String key = s.id() + "|" + d.id() + "|" + port + "|" + allowed;
                List<ObservedEdge.Request> list = samples.computeIfAbsent(key, x -> new ArrayList<>());
                if (q != null && !list.contains(q) && list.size() < ObservedEdge.GRAPH_SAMPLE_LIMIT) {
                    list.add(q);
                }
                calls.merge(key, 1L + rnd.nextInt(50), Long::sum);
            }
        }
        List<ObservedEdge> out = new ArrayList<>();
        samples.forEach((key, list) -> {
            String[] k = key.split("\\|");
            out.add(new ObservedEdge(k[0], k[1], Integer.parseInt(k[2]), Boolean.parseBoolean(k[3]), null, calls.get(key), list,
                    list.size() < ObservedEdge.GRAPH_SAMPLE_LIMIT));
        });
        return out;
    }

    static CompiledMesh compile(String yaml) {
        var result = PolicyCompiler.compile(List.of(new InputFile("generated.yaml", yaml)));
        assertThat(result.hasErrors()).as(result.diagnostics() + "\n" + yaml).isFalse();
        return result.mesh().orElseThrow();
    }
}
