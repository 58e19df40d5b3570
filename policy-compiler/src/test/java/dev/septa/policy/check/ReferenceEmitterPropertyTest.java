package dev.septa.policy.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.Dialect;
import dev.septa.policy.model.Mesh;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * The Checker over {@link ReferenceEmitter}'s 0001 layout agrees with the oracle: proves the generator, the
 * oracle and the Checker consistent on their own, so a failure of {@code CheckerPropertyTest} points at the
 * compiler.
 */
class ReferenceEmitterPropertyTest {
    static final DecisionStats STATS = new DecisionStats();

    @Property(tries = 100)
    void referenceLayoutDecidesAsTheDesignSays(@ForAll("meshes") Mesh mesh,
                                               @ForAll("queries") List<MeshArbitraries.QuerySpec> specs) {
        CompiledMesh compiled = ReferenceEmitter.compile(mesh);
        Checker envoy = new Checker(compiled, Dialect.ENVOY);
        Checker grpc = new Checker(compiled, Dialect.GRPC);
        DirectDecision oracle = new DirectDecision(mesh);
        for (MeshArbitraries.QuerySpec spec : specs) {
            Query q = MeshArbitraries.query(mesh, spec);
            Decision expected = oracle.decide(q);
            Decision actual = envoy.check(q);
            assertThat(actual).as(() -> "query " + q + "\n" + MeshYaml.print(mesh)).isEqualTo(expected);
            STATS.add(actual);
            if (grpc.accepts(q.to(), q.port())) {
                assertThat(grpc.check(q)).isEqualTo(actual);
            }
        }
    }

    @net.jqwik.api.lifecycle.AfterContainer
    static void varied() {
        STATS.assertVaried(2_000, 50);
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<Mesh> meshes() {
        return MeshArbitraries.meshes();
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<List<MeshArbitraries.QuerySpec>> queries() {
        return MeshArbitraries.queries();
    }
}
