package dev.septa.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.policy.check.Decision;
import dev.septa.policy.check.DecisionStats;
import dev.septa.policy.check.MeshArbitraries;
import dev.septa.policy.check.MeshYaml;
import dev.septa.policy.check.Query;
import dev.septa.policy.check.ReferenceDecision;
import dev.septa.policy.model.Mesh;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * {@code septa check --queries} against an independent reading of the decision rule in docs/architecture.md ({@link ReferenceDecision}), on
 * random meshes ({@link MeshArbitraries}) and <em>every</em> query of a grid over each: all sources, all
 * destinations, declared, intent-only and undeclared ports, every method and path of the vocabularies, and no
 * method or path. The mesh goes in as the YAML a user would write, through the real command line (parser,
 * compiler, compiled RBAC, batch format); each answer line must equal, byte for byte, the line the oracle's
 * decision gives: the query's fields in their input order (docs/check.md, batch mode), {@code decision}, {@code by}, {@code wouldDenyBy}.
 * A few of the queries also go through the single-query form ({@code --from --to --port [--method --path]}, text
 * and {@code -o json}), whose exit code must be 0 for ALLOW and 1 for DENY.
 * A failure prints the first differing query and the mesh, replayable with {@code septa check -f mesh.yaml}.
 */
class CheckQueriesPropertyTest {
    static final AtomicLong QUERIES = new AtomicLong();
    static final AtomicLong MESHES = new AtomicLong();
    static final AtomicLong SINGLE = new AtomicLong();
    static final DecisionStats STATS = new DecisionStats();

    @Provide
    Arbitrary<Mesh> meshes() {
        return MeshArbitraries.meshes();
    }

    @Property(tries = 500)
    void everyAnswerIsTheDesignsAnswer(@ForAll("meshes") Mesh mesh, @ForAll @IntRange(min = 0, max = 1_000_000) int pick)
            throws IOException {
        String yaml = MeshYaml.print(mesh);
        List<Query> queries = MeshArbitraries.grid(mesh);
        Path dir = Files.createTempDirectory("septa-check-property");
        try {
            Path meshFile = Files.writeString(dir.resolve("mesh.yaml"), yaml);
            var in = new StringBuilder(queries.size() * 96);
            for (int i = 0; i < queries.size(); i++) {
                in.append(queryLine(queries.get(i), i)).append('\n');
            }
            Path queryFile = Files.writeString(dir.resolve("queries.jsonl"), in);

            dev.septa.controlplane.support.SeptaRun run = CheckCommandTest.run("check", "-f", meshFile.toString(), "--queries",
                    queryFile.toString());

            assertThat(run.exit()).as(() -> "exit code; stderr:\n" + run.err() + "\n--- mesh:\n" + yaml).isZero();
            assertThat(run.err()).as("stderr carries compiler warnings only").doesNotContain("error");
            String[] lines = run.out().split("\n", -1);
            assertThat(lines).as("one answer line per query, then the final newline").hasSize(queries.size() + 1);
            assertThat(lines[queries.size()]).isEmpty();
            ReferenceDecision oracle = new ReferenceDecision(mesh);
            for (int i = 0; i < queries.size(); i++) {
                Query q = queries.get(i);
                Decision expected = oracle.decide(q);
                String want = answerLine(q, expected);
                String got = lines[i];
                assertThat(got).as(() -> "septa check --queries disagrees with the decision rule\n--- query:    " + queryLine(q, 0)
                        + "\n--- expected: " + want + "\n--- actual:   " + got + "\n--- mesh.yaml:\n" + yaml)
                        .isEqualTo(want);
                STATS.add(expected);
            }
            QUERIES.addAndGet(queries.size());
            MESHES.incrementAndGet();
            // A few of the same queries one at a time: text or JSON, and exit 0 allow / 1 deny.
            for (int k = 0; k < 4; k++) {
                Query q = queries.get(Math.floorMod(pick + k * 7919, queries.size()));
                Decision expected = oracle.decide(q);
                boolean json = k % 2 == 1;
                var args = new java.util.ArrayList<>(List.of("check", "-f", meshFile.toString(), "--from", q.from(),
                        "--to", q.to(), "--port", String.valueOf(q.port())));
                if (q.method() != null) {
                    args.addAll(List.of("--method", q.method()));
                }
                if (q.path() != null) {
                    args.addAll(List.of("--path", q.path()));
                }
                if (json) {
                    args.addAll(List.of("-o", "json"));
                }
                dev.septa.controlplane.support.SeptaRun one = CheckCommandTest.run(args.toArray(String[]::new));
                String want = json ? answerLine(q, expected) + "\n"
                        : expected.verdict() + " " + expected.by() + "\n"
                                + expected.wouldDenyBy().map(w -> "would be denied by " + w + " (DryRun)\n").orElse("");
                assertThat(one.out()).as(() -> "septa " + String.join(" ", args) + "\n" + one.err() + "\n--- mesh.yaml:\n" + yaml)
                        .isEqualTo(want);
                assertThat(one.exit()).as(() -> "exit code of septa " + String.join(" ", args))
                        .isEqualTo(expected.allowed() ? 0 : 1);
                SINGLE.incrementAndGet();
            }
        } finally {
            delete(dir);
        }
    }

    @AfterContainer
    static void enoughAndVaried() {
        System.out.println("septa check --queries: " + QUERIES.get() + " queries on " + MESHES.get()
                + " random meshes agreed with the reference, and " + SINGLE.get() + " single checks");
        assertThat(SINGLE.get()).isGreaterThanOrEqualTo(4 * MESHES.get());
        STATS.assertVaried(100_000, 2_000);
    }

    /** The query as a user writes it; the key order varies (and so must not matter), absent fields are left out. */
    static String queryLine(Query q, int variant) {
        String from = "\"from\":\"" + q.from() + "\"";
        String to = "\"to\":\"" + q.to() + "\"";
        String port = "\"port\":" + q.port();
        String method = q.method() == null ? null : "\"method\":\"" + q.method() + "\"";
        String path = q.path() == null ? null : "\"path\":\"" + q.path() + "\"";
        List<String> fields = variant % 3 == 2 ? Stream.of(path, port, to, method, from).toList()
                : Stream.of(from, to, port, method, path).toList();
        return "{" + String.join(",", fields.stream().filter(f -> f != null).toList()) + "}";
    }

    /** The batch answer line (docs/check.md): the query's fields, then decision, by and (when a DryRun Deny matched) wouldDenyBy. */
    static String answerLine(Query q, Decision d) {
        return "{\"from\":\"" + q.from() + "\",\"to\":\"" + q.to() + "\",\"port\":" + q.port()
                + (q.method() == null ? "" : ",\"method\":\"" + q.method() + "\"")
                + (q.path() == null ? "" : ",\"path\":\"" + q.path() + "\"")
                + ",\"decision\":\"" + d.verdict() + "\",\"by\":\"" + d.by() + "\""
                + d.wouldDenyBy().map(w -> ",\"wouldDenyBy\":\"" + w + "\"").orElse("") + "}";
    }

    private static void delete(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
