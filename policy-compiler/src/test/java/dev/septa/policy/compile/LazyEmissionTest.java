package dev.septa.policy.compile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.policy.check.MeshArbitraries;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.parse.InputFile;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * A compile emits a dialect only when asked: nothing for a dialect nobody asks for, and whatever is asked later, in
 * any order, on any thread, after any number of later compiles reused it, has the bytes of an eager compile.
 */
class LazyEmissionTest {
    @Provide
    Arbitrary<Mesh> meshes() {
        return MeshArbitraries.meshes();
    }

    @Property(tries = 100)
    void aDialectNobodyAsksForIsNotEmittedAndAskingLaterGivesTheEagerBytes(@ForAll("meshes") Mesh mesh, @ForAll long seed)
            throws Exception {
        CompiledMesh lazy = PolicyCompiler.compile(mesh).mesh().orElse(null);
        if (lazy == null) {
            return; // a mesh the resolver rejects has nothing to emit
        }
        Map<String, List<byte[]>> eager = eagerBytes(mesh);
        assertNothingEmitted(lazy, Dialect.ENVOY);
        assertNothingEmitted(lazy, Dialect.GRPC);

        Random random = new Random(seed);
        Dialect first = random.nextBoolean() ? Dialect.ENVOY : Dialect.GRPC;
        Dialect other = first == Dialect.ENVOY ? Dialect.GRPC : Dialect.ENVOY;
        List<String> ids = new ArrayList<>(lazy.proxies().keySet());
        Collections.shuffle(ids, random);
        for (String id : ids) {
            assertThat(IncrementalCompilerTest.bytes(lazy.proxies().get(id).resources(first)))
                    .isEqualTo(eager.get(id).get(first.ordinal()));
        }
        assertNothingEmitted(lazy, other);

        // The other dialect later, from several threads at once (the publisher and the checker may ask together).
        Collections.shuffle(ids, random);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<byte[]>> asked = new ArrayList<>();
            for (String id : ids) {
                asked.add(pool.submit(() -> IncrementalCompilerTest.bytes(lazy.proxies().get(id).resources(other))));
            }
            for (int i = 0; i < ids.size(); i++) {
                assertThat(asked.get(i).get()).as(ids.get(i)).isEqualTo(eager.get(ids.get(i)).get(other.ordinal()));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Property(tries = 100)
    void anEmissionReusedUnaskedByLaterCompilesFollowsTheLatestAndKeepsTheEagerBytes(@ForAll("meshes") Mesh before,
                                                                                    @ForAll("meshes") Mesh after) {
        PolicyCompiler.Memoized first = PolicyCompiler.compile(before, EmissionMemo.EMPTY);
        if (first.result().mesh().isEmpty()) {
            return;
        }
        CompiledMesh firstMesh = first.result().mesh().get();
        PolicyCompiler.Memoized second = PolicyCompiler.compile(before, first.memo());
        CompiledMesh again = second.result().mesh().orElseThrow();
        // The same input is handed the same (still unemitted) emission, now pointing at the second compile only.
        List<EmissionContext> contexts = new ArrayList<>();
        again.proxies().forEach((id, p) -> {
            assertThat(p.configurationIdentity()).isEqualTo(firstMesh.proxies().get(id).configurationIdentity());
            for (Dialect d : Dialect.values()) {
                assertThat(p.emitted(d)).isFalse();
                contexts.add(p.emission(d).pendingIn());
            }
        });
        assertThat(contexts.stream().distinct().count()).as("one compile's emitters").isLessThanOrEqualTo(1);

        PolicyCompiler.Memoized third = PolicyCompiler.compile(after, second.memo());
        if (third.result().mesh().isEmpty()) {
            return;
        }
        CompiledMesh last = third.result().mesh().get();
        Map<String, List<byte[]>> eager = eagerBytes(after);
        last.proxies().forEach((id, p) -> {
            for (Dialect d : Dialect.values()) {
                assertThat(IncrementalCompilerTest.bytes(p.resources(d))).as(id + " " + d).isEqualTo(eager.get(id).get(d.ordinal()));
            }
        });
        // What the first compile handed out and the last reused is one emission: the same resources instance.
        last.proxies().forEach((id, p) -> {
            CompiledProxy old = firstMesh.proxies().get(id);
            if (old != null && old.configurationIdentity().equals(p.configurationIdentity())) {
                assertThat(old.emitted(Dialect.ENVOY)).isTrue();
                assertThat(old.envoy()).isSameAs(p.envoy());
            }
        });
    }

    @Provide
    Arbitrary<List<IncrementalCompilerTest.Edit>> edits() {
        return new IncrementalCompilerTest().edits();
    }

    /**
     * Over random edit sequences, each step asks only some proxies for one dialect (often none): emissions left
     * unasked are carried by the memo through many compiles, and whatever is asked, at any step, has the bytes of a
     * full eager compile of that step's input.
     */
    @Property(tries = 100)
    void emissionsAskedAfterAnyNumberOfCompilesHaveTheEagerBytes(@ForAll("meshes") Mesh pool,
                                                               @ForAll("edits") List<IncrementalCompilerTest.Edit> edits,
                                                               @ForAll long seed) {
        Random random = new Random(seed);
        IncrementalCompilerTest.EditedMesh state = new IncrementalCompilerTest.EditedMesh(pool);
        IncrementalCompiler incremental = new IncrementalCompiler();
        CompiledMesh latest = incremental.compile(state.files(false)).mesh().orElse(null);
        List<InputFile> latestFiles = state.files(false);
        for (IncrementalCompilerTest.Edit edit : edits) {
            boolean broken = state.apply(edit);
            List<InputFile> files = state.files(broken);
            CompiledMesh compiled = incremental.compile(files).mesh().orElse(null);
            if (compiled == null) {
                continue;
            }
            latest = compiled;
            latestFiles = files;
            if (random.nextInt(3) == 0) {
                Dialect d = random.nextBoolean() ? Dialect.ENVOY : Dialect.GRPC;
                CompiledMesh full = PolicyCompiler.compile(files).mesh().orElseThrow();
                for (Map.Entry<String, CompiledProxy> e : compiled.proxies().entrySet()) {
                    if (random.nextInt(4) == 0) {
                        assertThat(IncrementalCompilerTest.bytes(e.getValue().resources(d)))
                                .isEqualTo(IncrementalCompilerTest.bytes(full.proxies().get(e.getKey()).resources(d)));
                    }
                }
            }
        }
        if (latest == null) {
            return;
        }
        CompiledMesh full = PolicyCompiler.compile(latestFiles).mesh().orElseThrow();
        for (Map.Entry<String, CompiledProxy> e : latest.proxies().entrySet()) {
            for (Dialect d : Dialect.values()) {
                assertThat(IncrementalCompilerTest.bytes(e.getValue().resources(d))).as(e.getKey() + " " + d)
                        .isEqualTo(IncrementalCompilerTest.bytes(full.proxies().get(e.getKey()).resources(d)));
            }
        }
    }

    /** Every proxy's bytes per dialect, emitted the way the compiler did before it deferred: both, at once, in order. */
    private static Map<String, List<byte[]>> eagerBytes(Mesh mesh) {
        Map<String, List<byte[]>> out = new TreeMap<>();
        PolicyCompiler.compile(mesh).mesh().orElseThrow().proxies().forEach((id, p) ->
                out.put(id, List.of(IncrementalCompilerTest.bytes(p.envoy()), IncrementalCompilerTest.bytes(p.grpc()))));
        return out;
    }

    private static void assertNothingEmitted(CompiledMesh mesh, Dialect dialect) {
        mesh.proxies().forEach((id, p) -> assertThat(p.emitted(dialect)).as(id + " " + dialect).isFalse());
    }
}
