package dev.septa.policy.compile;

import static org.assertj.core.api.Assertions.assertThat;

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
}
