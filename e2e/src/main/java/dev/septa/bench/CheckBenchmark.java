package dev.septa.bench;

import dev.septa.policy.check.Checker;
import dev.septa.policy.check.QueryBatch;
import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.model.Action;
import dev.septa.policy.model.DefaultAction;
import dev.septa.policy.model.HttpMatch;
import dev.septa.policy.model.Intent;
import dev.septa.policy.model.LabelSelector;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.MeshConfig;
import dev.septa.policy.model.Mode;
import dev.septa.policy.model.ObjectMeta;
import dev.septa.policy.model.Peer;
import dev.septa.policy.model.PortRule;
import dev.septa.policy.model.Protocol;
import dev.septa.policy.model.Segment;
import dev.septa.policy.model.SegmentRef;
import dev.septa.policy.model.Source;
import dev.septa.policy.model.Target;
import dev.septa.policy.model.Workload;
import dev.septa.policy.model.WorkloadPort;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.io.Writer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code septa check --queries} with 100,000 queries on a generated mesh, without file reading and compiling
 * (done once in setup): {@code batch} is what the command does after compiling (parse every JSON line, check
 * every workload, build a fresh {@link Checker} whose per-proxy inbound index is built on first use, answer each
 * query as a JSON line); {@code evaluateOnly} answers the same parsed queries on a warm Checker.
 *
 * <p>Run: {@code java -jar e2e/target/benchmarks.jar CheckBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(org.openjdk.jmh.annotations.Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class CheckBenchmark {
    static final int QUERIES = 100_000;

    @Param({"1000"})
    int workloads;

    CompiledMesh compiled;
    String queryLines;
    List<QueryBatch.Line> parsed;
    Checker warm;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        Mesh mesh = generate(workloads, workloads / 5, 42);
        CompileResult result = PolicyCompiler.compile(mesh);
        if (result.hasErrors()) {
            throw new IllegalStateException("generated mesh does not compile: " + result.diagnostics());
        }
        compiled = result.mesh().orElseThrow();
        queryLines = queries(mesh, QUERIES, 7);
        parsed = QueryBatch.parse("bench", new BufferedReader(new StringReader(queryLines))).queries();
        warm = new Checker(compiled);
        QueryBatch.answer(warm, parsed, Writer.nullWriter());
    }

    @Benchmark
    public long batch() throws IOException {
        var lines = QueryBatch.parse("bench", new BufferedReader(new StringReader(queryLines)));
        Checker checker = new Checker(compiled);
        if (!lines.errors().isEmpty() || !QueryBatch.unknownWorkloads("bench", lines.queries(), checker).isEmpty()) {
            throw new IllegalStateException("generated queries are malformed");
        }
        var out = new CountingWriter();
        QueryBatch.answer(checker, lines.queries(), out);
        return out.count;
    }

    @Benchmark
    public long evaluateOnly() throws IOException {
        var out = new CountingWriter();
        QueryBatch.answer(warm, parsed, out);
        return out.count;
    }

    /** A mesh of {@code n} workloads in 10 namespaces, 20 apps each, with {@code intents} intents of every kind. */
    public static Mesh generate(int n, int intents, long seed) {
        var rnd = new Random(seed);
        int namespaces = 10;
        int apps = 20;
        List<WorkloadPort> ports = List.of(new WorkloadPort("http", 8080, Protocol.HTTP),
                new WorkloadPort("grpc", 9090, Protocol.GRPC), new WorkloadPort("db", 5432, Protocol.TCP));
        var ws = new ArrayList<Workload>();
        for (int i = 0; i < n; i++) {
            String ns = "ns" + (i % namespaces);
            String app = "app" + (i / namespaces % apps);
            ws.add(new Workload(new ObjectMeta("w" + i, ns, Map.of("app", app, "tier", i % 3 == 0 ? "back" : "front")),
                    app, "127.1." + (i / 250) + "." + (i % 250 + 1), ports, Source.UNKNOWN));
        }
        var segs = new ArrayList<Segment>();
        for (int ns = 0; ns < namespaces; ns++) {
            for (int a = 0; a < apps; a++) {
                segs.add(new Segment(new ObjectMeta("app" + a, "ns" + ns, Map.of()),
                        new LabelSelector(Map.of("app", "app" + a), List.of()), Source.UNKNOWN));
            }
        }
        var ins = new ArrayList<Intent>();
        for (int i = 0; i < intents; i++) {
            Segment to = segs.get(rnd.nextInt(segs.size()));
            String ns = to.metadata().namespace();
            var from = new ArrayList<Peer>();
            from.add(new Peer.SegmentPeer(segs.get(rnd.nextInt(segs.size())).ref()));
            if (rnd.nextInt(4) == 0) {
                from.add(new Peer.NamespacePeer("ns" + rnd.nextInt(namespaces)));
            }
            List<PortRule> rules = switch (rnd.nextInt(4)) {
                case 0 -> List.of();
                case 1 -> List.of(new PortRule(5432, Protocol.TCP, null));
                case 2 -> List.of(new PortRule(9090, Protocol.GRPC, new HttpMatch(List.of(), List.of("/svc.A/*"))));
                default -> List.of(new PortRule(8080, Protocol.HTTP,
                        new HttpMatch(List.of("GET", "POST"), List.of("/v1/items/*", "/health"))));
            };
            Action action = rnd.nextInt(5) == 0 ? Action.DENY : Action.ALLOW;
            Mode mode = rnd.nextInt(6) == 0 ? Mode.DRY_RUN : Mode.ENFORCE;
            ins.add(new Intent(new ObjectMeta("i" + i, ns, Map.of()), action, mode, from,
                    new Target(new SegmentRef(ns, to.metadata().name()), rules), Source.UNKNOWN));
        }
        var config = new MeshConfig("cluster.local", DefaultAction.DENY, MeshConfig.DEFAULT.mtls(),
                MeshConfig.DEFAULT.certificateTTL());
        return new Mesh(config, segs, ins, ws, List.of());
    }

    /** {@code count} JSON query lines between random workloads, ports, methods and paths. */
    public static String queries(Mesh mesh, int count, long seed) {
        var rnd = new Random(seed);
        int[] ports = {8080, 9090, 5432, 7777};
        String[] methods = {null, "GET", "POST", "DELETE"};
        String[] paths = {null, "/v1/items/1", "/health", "/svc.A/Get", "/admin"};
        var sb = new StringBuilder(count * 96);
        List<Workload> ws = mesh.workloads();
        for (int i = 0; i < count; i++) {
            sb.append("{\"from\":\"").append(ws.get(rnd.nextInt(ws.size())).id())
                    .append("\",\"to\":\"").append(ws.get(rnd.nextInt(ws.size())).id())
                    .append("\",\"port\":").append(ports[rnd.nextInt(ports.length)]);
            String m = methods[rnd.nextInt(methods.length)];
            if (m != null) {
                sb.append(",\"method\":\"").append(m).append('"');
            }
            String p = paths[rnd.nextInt(paths.length)];
            if (p != null) {
                sb.append(",\"path\":\"").append(p).append('"');
            }
            sb.append("}\n");
        }
        return sb.toString();
    }

    /** Counts characters instead of keeping them: the benchmark measures deciding and formatting, not memory. */
    static final class CountingWriter extends Writer {
        long count;

        @Override
        public void write(char[] cbuf, int off, int len) {
            count += len;
        }

        @Override
        public void write(String str) {
            count += str.length();
        }

        @Override
        public void flush() { }

        @Override
        public void close() { }
    }
}
