package dev.septa.policy.check;

import dev.septa.policy.model.Action;
import dev.septa.policy.model.DefaultAction;
import dev.septa.policy.model.HttpMatch;
import dev.septa.policy.model.Intent;
import dev.septa.policy.model.LabelSelector;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.MeshConfig;
import dev.septa.policy.model.Mode;
import dev.septa.policy.model.MtlsMode;
import dev.septa.policy.model.ObjectMeta;
import dev.septa.policy.model.Peer;
import dev.septa.policy.model.PortRule;
import dev.septa.policy.model.Protocol;
import dev.septa.policy.model.Segment;
import dev.septa.policy.model.SegmentRef;
import dev.septa.policy.model.SelectorRequirement;
import dev.septa.policy.model.Source;
import dev.septa.policy.model.Target;
import dev.septa.policy.model.Workload;
import dev.septa.policy.model.WorkloadPort;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * Random meshes for the property tests, drawn from small vocabularies so that selectors, identities, ports and
 * paths collide often. Generated as index-based specs (which jqwik shrinks well) and then built into model
 * records; every mesh is valid input. What it exercises, on purpose: four namespaces (one usually without
 * workloads), workloads with several ports (some with no protocol written) and shared service accounts, names
 * repeated across namespaces, matchLabels with every selector operator
 * (and empty selectors), cross-namespace and namespace sources, omitted ports, ports no workload declares, HTTP
 * rules with methods, exact and prefix paths, ports whose protocol differs between an intent and the workload
 * (HTTP rules on a TCP port), DryRun Allow and Deny, both defaultActions, both mTLS modes, two trust domains.
 */
public final class MeshArbitraries {
    public static final List<String> NAMESPACES = List.of("a", "b", "c", "d");
    public static final List<String> APPS = List.of("web", "api", "db");
    static final List<String> TIERS = List.of("front", "back");
    static final List<String> ENVS = List.of("prod", "dev");
    static final List<String> TRUST_DOMAINS = List.of("cluster.local", "example.org");
    /** Ports workloads declare; 7000 is HTTP on most workloads and TCP on some. */
    public static final List<WorkloadPort> PORTS = List.of(new WorkloadPort("http", 8080, Protocol.HTTP),
            new WorkloadPort("grpc", 9090, Protocol.GRPC), new WorkloadPort("tcp", 5432, Protocol.TCP),
            new WorkloadPort("admin", 7000, Protocol.HTTP));
    /** Named by intents only: no workload declares it, so its chain's protocol comes from the intents. */
    static final int INTENT_ONLY_PORT = 6000;
    /** Named by nothing: answered by the inbound listener's default chain. */
    static final int UNDECLARED_PORT = 9999;
    /** Every port a query may ask about. */
    public static final List<Integer> QUERY_PORTS = List.of(8080, 9090, 5432, 7000, INTENT_ONLY_PORT, UNDECLARED_PORT);
    static final List<String> METHODS = List.of("GET", "POST", "DELETE");
    static final List<String> PATHS = List.of("/a", "/a/*", "/b", "/v1*", "/v1/x", "/*");
    public static final List<String> QUERY_METHODS = java.util.Arrays.asList(null, "GET", "POST", "PUT");
    public static final List<String> QUERY_PATHS = java.util.Arrays.asList(null, "/a", "/a/x", "/a/", "/b", "/v1",
            "/v1/x", "/v2", "/a?q=1", "/b#f");

    /** {@code ports}: indexes into PORTS; {@code kind} 0 as usual, 1 admin (7000) is TCP, 2 no protocols written. */
    record WorkloadSpec(int ns, int app, int tier, int env, int sa, Set<Integer> ports, int kind) { }

    record ExprSpec(int key, SelectorRequirement.Operator op, Set<Integer> values) { }

    record SegmentSpec(int ns, int app, int tier, List<ExprSpec> exprs) { }

    record PeerSpec(boolean namespace, int index) { }

    /**
     * {@code port} indexes PORTS, or the intent-only port (an intent may list a port twice); {@code protocol} 0-4
     * keeps the port's usual one, 5 leaves it out (the workload's), 6-7 pick another.
     */
    record RuleSpec(int port, int protocol, boolean http, Set<Integer> methods, Set<Integer> paths) { }

    record IntentSpec(int to, List<PeerSpec> from, Action action, Mode mode, List<RuleSpec> ports) { }

    record ConfigSpec(DefaultAction defaultAction, MtlsMode mtls, int trustDomain) { }

    /** {@code aimed}: from, to, port, method and path are drawn from what intent number {@code intent} names. */
    record QuerySpec(boolean aimed, int intent, int from, int to, int port, int method, int path) { }

    public static Arbitrary<Mesh> meshes() {
        Arbitrary<WorkloadSpec> workload = Combinators.combine(Arbitraries.integers().between(0, 2),
                Arbitraries.integers().between(0, 3), Arbitraries.integers().between(0, 2),
                Arbitraries.integers().between(0, 2), Arbitraries.integers().between(0, 2),
                Arbitraries.integers().between(0, 3).set().ofMaxSize(3), Arbitraries.of(0, 0, 0, 1, 2))
                .as(WorkloadSpec::new);
        Arbitrary<ExprSpec> expr = Combinators.combine(Arbitraries.integers().between(0, 2),
                Arbitraries.of(SelectorRequirement.Operator.class),
                Arbitraries.integers().between(0, 2).set().ofMinSize(1).ofMaxSize(2)).as(ExprSpec::new);
        // Mostly loose selectors (no app, no tier, at most two expressions), so that segments have members.
        // Namespace d has no workloads: its segments are empty (rarely, so that most intents have members).
        Arbitrary<SegmentSpec> segment = Combinators.combine(Arbitraries.of(0, 0, 1, 1, 2, 2, 3),
                Arbitraries.integers().between(0, 5), Arbitraries.integers().between(0, 4),
                expr.list().ofMaxSize(2)).as(SegmentSpec::new);
        Arbitrary<PeerSpec> peer = Combinators.combine(Arbitraries.of(false, false, true),
                Arbitraries.integers().between(0, 7)).as(PeerSpec::new);
        Arbitrary<RuleSpec> rule = Combinators.combine(Arbitraries.integers().between(0, PORTS.size()),
                Arbitraries.integers().between(0, 7), Arbitraries.of(true, true, false),
                Arbitraries.integers().between(0, 2).set().ofMaxSize(2),
                Arbitraries.integers().between(0, 5).set().ofMaxSize(2)).as(RuleSpec::new);
        Arbitrary<IntentSpec> intent = Combinators.combine(Arbitraries.integers().between(0, 7),
                peer.list().ofMinSize(1).ofMaxSize(3), Arbitraries.of(Action.class),
                Arbitraries.of(Mode.ENFORCE, Mode.ENFORCE, Mode.DRY_RUN),
                rule.list().ofMaxSize(3)).as(IntentSpec::new);
        Arbitrary<ConfigSpec> config = Combinators.combine(Arbitraries.of(DefaultAction.class),
                Arbitraries.of(MtlsMode.class), Arbitraries.integers().between(0, TRUST_DOMAINS.size() - 1))
                .as(ConfigSpec::new);
        return Combinators.combine(config, workload.list().ofMinSize(1).ofMaxSize(10),
                segment.list().ofMinSize(1).ofMaxSize(6), intent.list().ofMinSize(1).ofMaxSize(12))
                .as(MeshArbitraries::build);
    }

    static Arbitrary<List<QuerySpec>> queries() {
        return Combinators.combine(Arbitraries.of(true, true, false), Arbitraries.integers().between(0, 11),
                Arbitraries.integers().between(0, 9), Arbitraries.integers().between(0, 9),
                Arbitraries.integers().between(0, QUERY_PORTS.size() - 1),
                Arbitraries.integers().between(0, QUERY_METHODS.size() - 1),
                Arbitraries.integers().between(0, QUERY_PATHS.size() - 1)).as(QuerySpec::new)
                .list().ofMinSize(20).ofMaxSize(40);
    }

    /** Every (from, to, port, method, path) of the query vocabularies over the mesh's workloads. */
    public static List<Query> grid(Mesh mesh) {
        var out = new ArrayList<Query>();
        for (Workload from : mesh.workloads()) {
            for (Workload to : mesh.workloads()) {
                for (int port : QUERY_PORTS) {
                    for (String method : QUERY_METHODS) {
                        for (String path : QUERY_PATHS) {
                            out.add(new Query(from.id(), to.id(), port, method, path));
                        }
                    }
                }
            }
        }
        return out;
    }

    static Query query(Mesh mesh, QuerySpec q) {
        List<Workload> ws = mesh.workloads();
        int port = QUERY_PORTS.get(q.port());
        Workload from = ws.get(q.from() % ws.size());
        Workload to = ws.get(q.to() % ws.size());
        String method = QUERY_METHODS.get(q.method());
        String path = QUERY_PATHS.get(q.path());
        if (q.aimed() && !mesh.intents().isEmpty()) {
            // Random pairs rarely meet an intent; aim most queries at one so that intents decide often.
            Intent in = mesh.intents().get(q.intent() % mesh.intents().size());
            List<Workload> targets = members(mesh, in.to().segment());
            List<Workload> sources = ws.stream().filter(w -> in.from().stream().anyMatch(p -> switch (p) {
                case Peer.NamespacePeer np -> np.namespace().equals(w.metadata().namespace());
                case Peer.SegmentPeer sp -> members(mesh, sp.segment()).contains(w);
            })).toList();
            if (!targets.isEmpty()) {
                to = targets.get(q.to() % targets.size());
            }
            if (!sources.isEmpty()) {
                from = sources.get(q.from() % sources.size());
            }
            if (!in.to().ports().isEmpty() && port != UNDECLARED_PORT) {
                PortRule r = in.to().ports().get(q.port() % in.to().ports().size());
                port = r.port();
                if (r.http() != null && q.method() > 0 && !r.http().methods().isEmpty()) {
                    method = r.http().methods().get(q.method() % r.http().methods().size());
                }
                if (r.http() != null && q.path() > 0 && !r.http().paths().isEmpty()) {
                    String p = r.http().paths().get(q.path() % r.http().paths().size());
                    path = p.endsWith("*") ? p.substring(0, p.length() - 1) + (q.path() % 2 == 0 ? "/x" : "") : p;
                }
            }
        }
        return new Query(from.id(), to.id(), port, method, path);
    }

    private static List<Workload> members(Mesh mesh, SegmentRef ref) {
        Segment s = mesh.segments().stream().filter(x -> x.ref().equals(ref)).findFirst().orElseThrow();
        return mesh.workloads().stream().filter(w -> w.metadata().namespace().equals(ref.namespace())
                && s.selector().matches(w.metadata().labels())).toList();
    }

    private static Protocol ruleProtocol(int port, int choice) {
        Protocol usual = port == INTENT_ONLY_PORT ? Protocol.HTTP
                : PORTS.stream().filter(p -> p.port() == port).findFirst().orElseThrow().protocol();
        if (choice < 5) {
            return usual;
        }
        if (choice == 5) {
            return null;
        }
        List<Protocol> others = java.util.Arrays.stream(Protocol.values()).filter(p -> p != usual).toList();
        return others.get(choice - 6);
    }

    private static String nextName(String kind, int ns, Map<String, Integer> counters) {
        return kind + counters.merge(kind + ns, 1, Integer::sum);
    }

    static Mesh build(ConfigSpec cfg, List<WorkloadSpec> workloads, List<SegmentSpec> segments,
                      List<IntentSpec> intents) {
        var config = new MeshConfig(TRUST_DOMAINS.get(cfg.trustDomain()), cfg.defaultAction(), cfg.mtls(),
                MeshConfig.DEFAULT.certificateTTL());
        // Names count per namespace, so that a/w0 and b/w0, a/s0 and b/s0, a/i0 and b/i0 all exist: only the
        // namespace tells them apart.
        var names = new HashMap<String, Integer>();
        var ws = new ArrayList<Workload>();
        for (int i = 0; i < workloads.size(); i++) {
            WorkloadSpec w = workloads.get(i);
            var labels = new HashMap<String, String>();
            if (w.app() < APPS.size()) {
                labels.put("app", APPS.get(w.app()));
            }
            if (w.tier() < TIERS.size()) {
                labels.put("tier", TIERS.get(w.tier()));
            }
            if (w.env() < ENVS.size()) {
                labels.put("env", ENVS.get(w.env()));
            }
            List<WorkloadPort> ports = w.ports().stream().sorted().map(PORTS::get)
                    .map(p -> w.kind() == 1 && p.port() == 7000 ? new WorkloadPort(p.name(), p.port(), Protocol.TCP)
                            : w.kind() == 2 ? new WorkloadPort(p.name(), p.port(), Protocol.TCP, false) : p)
                    .toList();
            ws.add(new Workload(new ObjectMeta(nextName("w", w.ns(), names), NAMESPACES.get(w.ns()), labels), "sa" + w.sa(),
                    "127.0.1." + (i + 1), ports, new Source("generated", i + 1, 1)));
        }
        var segs = new ArrayList<Segment>();
        for (int i = 0; i < segments.size(); i++) {
            SegmentSpec s = segments.get(i);
            var labels = new HashMap<String, String>();
            if (s.app() < APPS.size()) {
                labels.put("app", APPS.get(s.app()));
            }
            if (s.tier() < TIERS.size()) {
                labels.put("tier", TIERS.get(s.tier()));
            }
            var exprs = new ArrayList<SelectorRequirement>();
            for (ExprSpec e : s.exprs()) {
                List<String> vocab = List.of(APPS, TIERS, ENVS).get(e.key());
                boolean needsValues = e.op() == SelectorRequirement.Operator.In
                        || e.op() == SelectorRequirement.Operator.NotIn;
                List<String> values = needsValues
                        ? e.values().stream().sorted().map(v -> vocab.get(v % vocab.size())).distinct().toList()
                        : List.of();
                exprs.add(new SelectorRequirement(List.of("app", "tier", "env").get(e.key()), e.op(), values));
            }
            segs.add(new Segment(new ObjectMeta(nextName("s", s.ns(), names), NAMESPACES.get(s.ns()), Map.of()),
                    new LabelSelector(labels, exprs), new Source("generated", 100 + i, 1)));
        }
        var ins = new ArrayList<Intent>();
        for (int i = 0; i < intents.size(); i++) {
            IntentSpec in = intents.get(i);
            Segment to = segs.get(in.to() % segs.size());
            String ns = to.metadata().namespace();
            var from = new LinkedHashSet<Peer>();
            for (PeerSpec p : in.from()) {
                from.add(p.namespace() ? new Peer.NamespacePeer(NAMESPACES.get(p.index() % NAMESPACES.size()))
                        : new Peer.SegmentPeer(segs.get(p.index() % segs.size()).ref()));
            }
            var rules = new ArrayList<PortRule>();
            for (RuleSpec r : in.ports()) {
                int port = r.port() == PORTS.size() ? INTENT_ONLY_PORT : PORTS.get(r.port()).port();
                Protocol protocol = ruleProtocol(port, r.protocol());
                HttpMatch http = (protocol == null || protocol.isHttp()) && r.http()
                        ? new HttpMatch(r.methods().stream().sorted().map(METHODS::get).toList(),
                                r.paths().stream().sorted().map(PATHS::get).toList())
                        : null;
                rules.add(new PortRule(port, protocol, http));
            }
            ins.add(new Intent(new ObjectMeta(nextName("i", NAMESPACES.indexOf(ns), names), ns, Map.of()), in.action(), in.mode(), List.copyOf(from),
                    new Target(new SegmentRef(ns, to.metadata().name()), rules), new Source("generated", 200 + i, 1)));
        }
        return new Mesh(config, segs, ins, ws, List.of());
    }
}
