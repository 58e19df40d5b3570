package dev.septa.policy.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.Dialect;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.model.Mesh;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * The proxyless gRPC server listeners decide exactly as the Envoy inbound listener, wherever a gRPC server
 * listener exists, on random meshes, for paths without a query string or fragment (grpc-java matches those as part
 * of the path, Envoy does not: PathNormalizationTest). (Whether the Envoy dialect decides as docs/architecture.md says is the control plane's
 * {@code CheckQueriesPropertyTest}: every query of every generated mesh through {@code septa check --queries},
 * against {@link ReferenceDecision}.) A failure prints the mesh as YAML, replayable with {@code septa check}.
 */
class GrpcDialectPropertyTest {
    static final AtomicLong QUERIES = new AtomicLong();
    static final AtomicLong COMPARED = new AtomicLong();

    @Provide
    Arbitrary<Mesh> meshes() {
        return MeshArbitraries.meshes();
    }

    @Provide
    Arbitrary<List<MeshArbitraries.QuerySpec>> queries() {
        return MeshArbitraries.queries();
    }

    @Property(tries = 200)
    void grpcServerRbacDecidesAsTheEnvoyInbound(@ForAll("meshes") Mesh mesh,
                                                @ForAll("queries") List<MeshArbitraries.QuerySpec> specs) {
        CompileResult result = PolicyCompiler.compile(mesh);
        assertThat(result.hasErrors()).as(() -> "generated mesh does not compile: " + result.diagnostics()
                + "\n" + MeshYaml.print(mesh)).isFalse();
        CompiledMesh compiled = result.mesh().orElseThrow();
        Checker envoy = new Checker(compiled, Dialect.ENVOY);
        Checker grpc = new Checker(compiled, Dialect.GRPC);
        for (MeshArbitraries.QuerySpec spec : specs) {
            Query q = MeshArbitraries.query(mesh, spec);
            QUERIES.incrementAndGet();
            boolean plainPath = q.path() == null || (q.path().indexOf('?') < 0 && q.path().indexOf('#') < 0);
            if (plainPath && grpc.accepts(q.to(), q.port())) {
                Decision e = envoy.check(q);
                Decision g = grpc.check(q);
                assertThat(g).as(() -> "proxyless gRPC server RBAC disagrees with the Envoy dialect\n--- query: " + q
                        + "\n--- envoy: " + e + "\n--- grpc:  " + g + "\n--- mesh:\n" + MeshYaml.print(mesh))
                        .isEqualTo(e);
                COMPARED.incrementAndGet();
            }
        }
    }

    @AfterContainer
    static void enoughCompared() {
        System.out.println("queries: " + QUERIES.get() + ", compared with the gRPC dialect: " + COMPARED.get());
        assertThat(COMPARED.get()).isGreaterThan(1_000);
    }
}
