package dev.septa.policy.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.Dialect;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.parse.InputFile;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * The evaluator over the compiled RBAC agrees with a direct reading of DESIGN.md's decision rules
 * ({@link DirectDecision}) on random meshes: decision, deciding intent and DryRun report. And the proxyless gRPC
 * server listeners decide exactly as the Envoy inbound listener, wherever a gRPC server listener exists.
 * A failure prints the mesh as YAML (replayable with {@code septa check}) and the query; jqwik shrinks it first.
 */
class CheckerPropertyTest {
    static final AtomicLong QUERIES = new AtomicLong();
    static final AtomicLong GRPC_COMPARED = new AtomicLong();
    static final DecisionStats STATS = new DecisionStats();

    @Provide
    Arbitrary<Mesh> meshes() {
        return MeshArbitraries.meshes();
    }

    @Provide
    Arbitrary<List<MeshArbitraries.QuerySpec>> queries() {
        return MeshArbitraries.queries();
    }

    @Property(tries = 300)
    void compiledRbacDecidesAsTheDesignSays(@ForAll("meshes") Mesh mesh,
                                            @ForAll("queries") List<MeshArbitraries.QuerySpec> specs) {
        CompiledMesh compiled = compile(mesh);
        Checker envoy = new Checker(compiled, Dialect.ENVOY);
        Checker grpc = new Checker(compiled, Dialect.GRPC);
        DirectDecision oracle = new DirectDecision(mesh);
        for (MeshArbitraries.QuerySpec spec : specs) {
            Query q = MeshArbitraries.query(mesh, spec);
            Decision expected = oracle.decide(q);
            Decision actual = envoy.check(q);
            assertThat(actual).as(() -> report("Envoy inbound RBAC disagrees with DESIGN.md", mesh, q, expected,
                    actual)).isEqualTo(expected);
            if (grpc.accepts(q.to(), q.port())) {
                Decision g = grpc.check(q);
                assertThat(g).as(() -> report("proxyless gRPC server RBAC disagrees with the Envoy dialect", mesh, q,
                        actual, g)).isEqualTo(actual);
                GRPC_COMPARED.incrementAndGet();
            }
            QUERIES.incrementAndGet();
            STATS.add(actual);
        }
    }

    /**
     * The YAML a failure prints is the same mesh: parsed back by the real parser and compiled, it decides every
     * query alike. So a failing case can be replayed with {@code septa check -f case.yaml}.
     */
    @Property(tries = 60)
    void printedMeshReplaysThroughTheParser(@ForAll("meshes") Mesh mesh,
                                            @ForAll("queries") List<MeshArbitraries.QuerySpec> specs) {
        String yaml = MeshYaml.print(mesh);
        CompileResult reparsed = PolicyCompiler.compile(List.of(new InputFile("case.yaml", yaml)));
        assertThat(reparsed.hasErrors()).as(() -> reparsed.diagnostics() + "\n" + yaml).isFalse();
        Checker original = new Checker(compile(mesh));
        Checker replayed = new Checker(reparsed.mesh().orElseThrow());
        for (MeshArbitraries.QuerySpec spec : specs) {
            Query q = MeshArbitraries.query(mesh, spec);
            assertThat(replayed.check(q)).as(() -> q + "\n" + yaml).isEqualTo(original.check(q));
        }
    }

    @AfterContainer
    static void enoughQueries() {
        // Thousands of queries in total, and the gRPC comparison must actually have happened.
        assertThat(QUERIES.get()).isGreaterThanOrEqualTo(5_000);
        System.out.println("queries: " + QUERIES.get() + ", compared with the gRPC dialect: " + GRPC_COMPARED.get());
        assertThat(GRPC_COMPARED.get()).isGreaterThan(500);
        STATS.assertVaried(5_000, 200);
    }

    static CompiledMesh compile(Mesh mesh) {
        CompileResult result = PolicyCompiler.compile(mesh);
        assertThat(result.hasErrors()).as(() -> "generated mesh does not compile: " + result.diagnostics()
                + "\n" + MeshYaml.print(mesh)).isFalse();
        return result.mesh().orElseThrow();
    }

    static String report(String what, Mesh mesh, Query q, Decision expected, Decision actual) {
        return what + "\n--- query: " + q + "\n--- expected: " + expected + "\n--- actual:   " + actual
                + "\n--- mesh:\n" + MeshYaml.print(mesh);
    }
}
