package dev.septa.controlplane.publish;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.controlplane.support.ShopFixture;
import dev.septa.controlplane.xds.ProxyKey;
import dev.septa.controlplane.xds.ProxySnapshot;
import dev.septa.controlplane.xds.PublishedConfig;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.Dialect;
import dev.septa.policy.compile.IncrementalCompiler;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.parse.InputFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The publisher's assembly of the real compiled shop mesh: only the connected (node, dialect) pairs are assembled
 * (and so emitted); a pair asked for later, in either dialect, is exactly what an eager assembly of the same
 * input gives; and what one publish assembled on demand the next reuses.
 */
class OnDemandAssemblyTest {
    private static final ProxyKey PAYMENTS_ENVOY = new ProxyKey("shop/payments-1", Dialect.ENVOY);
    private static final ProxyKey CHECKOUT_ENVOY = new ProxyKey("shop/checkout-1", Dialect.ENVOY);

    @Test
    void assemblesOnlyConnectedPairsAndLateOnesEqualAnEagerAssembly() throws IOException {
        List<InputFile> shop = shop();
        CompiledMesh mesh = PolicyCompiler.compile(shop).mesh().orElseThrow();
        assertThat(mesh.proxies()).containsKeys(PAYMENTS_ENVOY.nodeId(), CHECKOUT_ENVOY.nodeId());
        SnapshotAssembler assembler = new SnapshotAssembler();
        PublishedConfig published = assembler.assemble(mesh, Set.of(PAYMENTS_ENVOY, CHECKOUT_ENVOY));

        assertThat(published.assembledSoFar()).containsOnlyKeys(PAYMENTS_ENVOY, CHECKOUT_ENVOY);
        mesh.proxies().values().forEach(p -> assertThat(p.emitted(Dialect.GRPC)).as(p.workloadId()).isFalse());
        long envoyEmitted = mesh.proxies().values().stream().filter(p -> p.emitted(Dialect.ENVOY)).count();
        assertThat(envoyEmitted).as("only the connected ones (and replicas sharing their emission)").isLessThan(mesh.proxies().size());
        assertThat(published.assembled(new ProxyKey("shop/payments-1", Dialect.GRPC))).as("not assembled yet").isNull();
        assertThat(published.assembled(new ProxyKey("shop/nobody", Dialect.GRPC))).isSameAs(ProxySnapshot.EMPTY);

        // An eager assembly of a separate compile of the same input: every later ask must give the same content.
        Map<ProxyKey, ProxySnapshot> eager = new SnapshotAssembler().assemble(PolicyCompiler.compile(shop).mesh().orElseThrow());
        for (String id : mesh.proxies().keySet()) {
            for (Dialect d : Dialect.values()) {
                ProxyKey key = new ProxyKey(id, d);
                assertThat(published.snapshotFor(key).key()).as(key.toString()).isEqualTo(eager.get(key).key());
                assertThat(published.snapshotFor(key)).as("assembled once").isSameAs(published.assembled(key));
            }
        }
    }

    @Test
    void whatOnePublishAssembledOnDemandTheNextReuses() throws IOException {
        IncrementalCompiler compiler = new IncrementalCompiler();
        List<InputFile> shop = shop();
        SnapshotAssembler assembler = new SnapshotAssembler();
        PublishedConfig first = assembler.assemble(compiler.compile(shop).mesh().orElseThrow(), Set.of(PAYMENTS_ENVOY));
        ProxyKey late = new ProxyKey("shop/checkout-1", Dialect.GRPC);
        ProxySnapshot lateSnapshot = first.snapshotFor(late);

        // The same input again (as after an edit that was undone): the compiler hands back the same emissions.
        PublishedConfig second = assembler.assemble(compiler.compile(List.copyOf(shop)).mesh().orElseThrow(), Set.of(PAYMENTS_ENVOY, late));
        assertThat(second.assembled(late)).isSameAs(lateSnapshot);
        assertThat(second.assembled(PAYMENTS_ENVOY)).isSameAs(first.assembled(PAYMENTS_ENVOY));
        assertThat(assembler.built()).as("nothing changed: nothing packed").isZero();
        assertThat(assembler.reused()).isEqualTo(2);
    }

    private static List<InputFile> shop() throws IOException {
        Path root = ShopFixture.SHOP;
        try (Stream<Path> files = Files.walk(root)) {
            List<InputFile> out = new ArrayList<>();
            for (Path p : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                out.add(new InputFile(root.relativize(p).toString(), Files.readString(p)));
            }
            return out;
        }
    }
}
