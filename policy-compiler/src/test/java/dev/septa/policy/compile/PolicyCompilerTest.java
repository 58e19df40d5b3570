package dev.septa.policy.compile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.parse.InputFile;
import dev.septa.policy.parse.MeshParser;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PolicyCompilerTest {
    private static final Path SHOP = Path.of("../examples/shop");

    @Test
    void sameInputGivesByteIdenticalOutputWhateverTheOrder() {
        Mesh mesh = MeshParser.parse(TestInputs.load(SHOP)).mesh();
        var first = CompiledMeshFiles.files(PolicyCompiler.compile(mesh).mesh().orElseThrow());
        for (long seed = 1; seed <= 5; seed++) {
            Random random = new Random(seed);
            List<dev.septa.policy.model.Intent> intents = new ArrayList<>(mesh.intents());
            List<dev.septa.policy.model.Workload> workloads = new ArrayList<>(mesh.workloads());
            List<dev.septa.policy.model.Segment> segments = new ArrayList<>(mesh.segments());
            List<dev.septa.policy.model.Service> services = new ArrayList<>(mesh.services());
            Collections.shuffle(intents, random);
            Collections.shuffle(workloads, random);
            Collections.shuffle(segments, random);
            Collections.shuffle(services, random);
            Mesh shuffled = new Mesh(mesh.config(), segments, intents, workloads, services);
            assertThat(CompiledMeshFiles.files(PolicyCompiler.compile(shuffled).mesh().orElseThrow())).isEqualTo(first);
        }
    }

    @Test
    void anErrorAnywhereYieldsNoCompiledMesh() {
        List<InputFile> inputs = new ArrayList<>(TestInputs.load(SHOP));
        inputs.add(new InputFile("broken.yaml", """
                apiVersion: septa.dev/v1alpha1
                kind: Intent
                metadata: {name: broken, namespace: shop}
                spec:
                  action: Allow
                  from: [{segment: checkout}]
                  to: {segment: payments, ports: [{port: 70000, protocol: GRPC}]}
                """));
        CompileResult result = PolicyCompiler.compile(inputs);
        assertThat(result.hasErrors()).isTrue();
        assertThat(result.mesh()).isEmpty();
        assertThat(result.diagnostics()).extracting(Diagnostic::toString)
                .contains("broken.yaml:7:42: error: port 70000 is out of range: expected 1-65535");
    }

    @Test
    void shopCompilesWithoutErrorsForEveryWorkload() {
        CompileResult result = PolicyCompiler.compile(TestInputs.load(SHOP));
        assertThat(result.hasErrors()).as(result.diagnostics().toString()).isFalse();
        assertThat(result.mesh().orElseThrow().proxies()).containsOnlyKeys(
                "monitoring/prometheus-1", "shop/catalog-1", "shop/catalog-2", "shop/checkout-1", "shop/payments-1", "shop/storefront-1");
    }

    /** Permissive: every inbound port (and the default) also takes plaintext, with the same filters; Strict: TLS only. */
    @Test
    void permissiveInboundHasAPlaintextTwinOfEveryChainAndStrictHasNone() {
        for (String mode : List.of("Strict", "Permissive")) {
            List<InputFile> inputs = new ArrayList<>(TestInputs.load(SHOP).stream().filter(f -> !f.name().endsWith("mesh.yaml")).toList());
            inputs.add(new InputFile("mesh.yaml", """
                    apiVersion: septa.dev/v1alpha1
                    kind: MeshConfig
                    metadata: {name: mesh}
                    spec: {trustDomain: cluster.local, defaultAction: Deny, mtls: %s}
                    """.formatted(mode)));
            CompileResult result = PolicyCompiler.compile(inputs);
            assertThat(result.hasErrors()).as(result.diagnostics().toString()).isFalse();
            var inbound = result.mesh().orElseThrow().proxies().get("shop/payments-1").envoy().listeners().stream()
                    .filter(l -> l.getName().equals("inbound")).findFirst().orElseThrow();
            var tls = inbound.getFilterChainsList().stream().filter(c -> c.hasTransportSocket()).toList();
            var plaintext = inbound.getFilterChainsList().stream().filter(c -> !c.hasTransportSocket()).toList();
            var inspectors = inbound.getListenerFiltersList().stream().map(f -> f.getName()).toList();
            if (mode.equals("Strict")) {
                assertThat(plaintext).isEmpty();
                assertThat(inspectors).doesNotContain("envoy.filters.listener.tls_inspector");
                assertThat(tls).allSatisfy(c -> assertThat(c.getFilterChainMatch().getTransportProtocol()).isEmpty());
                continue;
            }
            assertThat(inspectors).containsExactly("envoy.filters.listener.original_dst", "envoy.filters.listener.tls_inspector");
            assertThat(tls).isNotEmpty().allSatisfy(c -> assertThat(c.getFilterChainMatch().getTransportProtocol()).isEqualTo("tls"));
            assertThat(plaintext).hasSize(tls.size() + 1); // one per port, plus the default chain's
            for (var chain : tls) {
                var twin = plaintext.stream().filter(p -> p.getName().equals(chain.getName() + "|plaintext")).findFirst().orElseThrow();
                assertThat(twin.getFilterChainMatch().getTransportProtocol()).isEqualTo("raw_buffer");
                assertThat(twin.getFilterChainMatch().getDestinationPort()).isEqualTo(chain.getFilterChainMatch().getDestinationPort());
                assertThat(twin.getFiltersList()).isEqualTo(chain.getFiltersList());
            }
            assertThat(plaintext).anySatisfy(c -> {
                assertThat(c.getName()).isEqualTo("inbound|default|plaintext");
                assertThat(c.getFilterChainMatch().hasDestinationPort()).isFalse();
                assertThat(c.getFiltersList()).isEqualTo(inbound.getDefaultFilterChain().getFiltersList());
            });
        }
    }
}
