package dev.septa.controlplane.publish;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.controlplane.xds.ProxyKey;
import dev.septa.controlplane.xds.ProxySnapshot;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.CompiledProxy;
import dev.septa.policy.compile.Dialect;
import dev.septa.policy.emit.ProxyResources;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.MeshConfig;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Snapshots follow the change: unchanged resources keep their snapshot, changed ones get a new one. */
class SnapshotAssemblerTest {
    private static final Mesh EMPTY = new Mesh(MeshConfig.DEFAULT, List.of(), List.of(), List.of(), List.of());

    @Test
    void reusesTheSnapshotOfAnUnchangedResourcesInstanceAndRebuildsTheChangedOne() {
        ProxyResources a = resources("a");
        ProxyResources b = resources("b");
        SnapshotAssembler assembler = new SnapshotAssembler();
        Map<ProxyKey, ProxySnapshot> first = assembler.assemble(mesh(Map.of("ns/a1", a, "ns/a2", a, "ns/b", b)));
        assertThat(assembler.built()).as("one per distinct instance and dialect").isEqualTo(4);
        assertThat(first.get(new ProxyKey("ns/a1", Dialect.ENVOY))).isSameAs(first.get(new ProxyKey("ns/a2", Dialect.ENVOY)));

        ProxyResources b2 = resources("b-changed");
        Map<ProxyKey, ProxySnapshot> second = assembler.assemble(mesh(Map.of("ns/a1", a, "ns/a2", a, "ns/b", b2)));
        assertThat(assembler.reused()).isEqualTo(2);
        assertThat(assembler.built()).isEqualTo(2);
        assertThat(second.get(new ProxyKey("ns/a1", Dialect.GRPC))).isSameAs(first.get(new ProxyKey("ns/a1", Dialect.GRPC)));
        assertThat(second.get(new ProxyKey("ns/b", Dialect.ENVOY)).key())
                .isNotEqualTo(first.get(new ProxyKey("ns/b", Dialect.ENVOY)).key());

        // An equal but distinct instance is assembled again, and yields the same content (same key).
        Map<ProxyKey, ProxySnapshot> third = assembler.assemble(mesh(Map.of("ns/a1", resources("a"), "ns/a2", a, "ns/b", b2)));
        assertThat(third.get(new ProxyKey("ns/a1", Dialect.ENVOY)).key()).isEqualTo(first.get(new ProxyKey("ns/a1", Dialect.ENVOY)).key());
    }

    private static ProxyResources resources(String cluster) {
        return new ProxyResources(List.of(), List.of(), List.of(Cluster.newBuilder().setName(cluster).build()), List.of());
    }

    private static CompiledMesh mesh(Map<String, ProxyResources> byNode) {
        TreeMap<String, CompiledProxy> proxies = new TreeMap<>();
        byNode.forEach((id, r) -> proxies.put(id, new CompiledProxy(id, r, r)));
        return new CompiledMesh(EMPTY, proxies, List.of());
    }
}
