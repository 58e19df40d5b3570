package dev.septa.bench;

import dev.septa.policy.check.Checker;
import dev.septa.policy.check.QueryBatch;
import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.model.Intent;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.Peer;
import dev.septa.policy.model.PortRule;
import dev.septa.policy.model.Segment;
import dev.septa.policy.model.SegmentRef;
import dev.septa.policy.model.Workload;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.io.Writer;
import java.util.HashMap;
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
 * {@code septa check --queries} with 100,000 queries on the {@link SyntheticMesh} of 1,000 workloads and 200 intents, without file reading and compiling
 * (done once in setup): {@code batch} is what the command does after compiling (parse every JSON line, check
 * every workload, build a fresh {@link Checker} whose per-proxy inbound index is built on first use, answer each
 * query as a JSON line); {@code evaluateOnly} answers the same parsed queries on a warm Checker.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar CheckBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(org.openjdk.jmh.annotations.Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5)
@Measurement(iterations = 15)
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
        Mesh mesh = SyntheticMesh.generate(workloads, workloads / 5);
        CompileResult result = PolicyCompiler.compile(mesh);
        if (result.hasErrors()) {
            throw new IllegalStateException("generated mesh does not compile: " + result.diagnostics());
        }
        compiled = result.mesh().orElseThrow();
        queryLines = queries(mesh, QUERIES, 7);
        parsed = QueryBatch.parse("bench", new BufferedReader(new StringReader(queryLines))).queries();
        warm = new Checker(compiled);
        long allowed = parsed.stream().filter(l -> warm.check(l.query()).allowed()).count();
        long byIntent = parsed.stream().filter(l -> !warm.check(l.query()).by().equals("default")).count();
        System.out.printf("%n%d queries on %d workloads, %d intents: %d allowed, %d decided by an intent%n",
                parsed.size(), mesh.workloads().size(), mesh.intents().size(), allowed, byIntent);
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

    /**
     * {@code count} JSON query lines: half aimed at a random intent (a member of a source segment to a member of
     * the target, on the intent's port, with one of its paths or a near miss), half between random workloads,
     * ports, methods and paths.
     */
    public static String queries(Mesh mesh, int count, long seed) {
        var rnd = new Random(seed);
        Map<SegmentRef, List<Workload>> members = new HashMap<>();
        for (Segment s : mesh.segments()) {
            members.put(s.ref(), mesh.workloads().stream()
                    .filter(w -> w.metadata().namespace().equals(s.metadata().namespace())
                            && s.selector().matches(w.metadata().labels()))
                    .toList());
        }
        int[] ports = {8443, 9090, 5432, 7777};
        String[] methods = {null, "GET", "POST"};
        String[] paths = {null, "/svc1.Read/Get", "/svc2.Api/Method7", "/grpc.health.v1.Health/Check", "/admin"};
        var sb = new StringBuilder(count * 96);
        List<Workload> ws = mesh.workloads();
        for (int i = 0; i < count; i++) {
            Workload from = ws.get(rnd.nextInt(ws.size()));
            Workload to = ws.get(rnd.nextInt(ws.size()));
            int port = ports[rnd.nextInt(ports.length)];
            String m = methods[rnd.nextInt(methods.length)];
            String p = paths[rnd.nextInt(paths.length)];
            if (rnd.nextBoolean()) {
                Intent in = mesh.intents().get(rnd.nextInt(mesh.intents().size()));
                List<Workload> sources = members.getOrDefault(
                        ((Peer.SegmentPeer) in.from().getFirst()).segment(), List.of());
                List<Workload> targets = members.getOrDefault(in.to().segment(), List.of());
                if (!sources.isEmpty() && !targets.isEmpty()) {
                    from = sources.get(rnd.nextInt(sources.size()));
                    to = targets.get(rnd.nextInt(targets.size()));
                    PortRule r = in.to().ports().getFirst();
                    port = r.port();
                    if (r.http() != null && !r.http().paths().isEmpty()) {
                        m = "POST";
                        String path = r.http().paths().get(rnd.nextInt(r.http().paths().size()));
                        p = path.endsWith("*") ? path.substring(0, path.length() - 1) + "Get" : path;
                    }
                }
            }
            sb.append("{\"from\":\"").append(from.id()).append("\",\"to\":\"").append(to.id())
                    .append("\",\"port\":").append(port);
            if (m != null) {
                sb.append(",\"method\":\"").append(m).append('"');
            }
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
