package dev.septa.controlplane.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.septa.policy.parse.InputFile;
import dev.septa.policy.parse.FuzzBounds;
import dev.septa.policy.parse.MeshParser;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Fuzzes the Kubernetes object renderer with objects as the API client decodes them from arbitrary JSON: a custom
 * resource, a pod or a service (the first byte chooses), each with the name and namespace the API server always
 * sets. What the renderer makes is read by the compiler's parser, which may only answer with diagnostics. JSON the
 * client itself cannot decode never reaches Septa and is skipped. Seeds: {@code KubernetesObjectRendererFuzzTestInputs/render}.
 */
class KubernetesObjectRendererFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        // Warm-up, outside the per-input bound: the renderer's and the parser's classes.
        MeshParser.parse(List.of(new dev.septa.policy.parse.InputFile("warm-up", KubernetesObjectRenderer.customResource(
                new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder().withApiVersion("septa.dev/v1alpha1")
                        .withKind("Segment").withNewMetadata().withName("a").withNamespace("shop").endMetadata().build()).text())));
    }

    @FuzzTest(maxDuration = "30s")
    void render(byte[] input) {
        if (input.length == 0) {
            return;
        }
        int kind = Math.floorMod(input[0], 3);
        String json = new String(input, 1, input.length - 1, StandardCharsets.UTF_8);
        HasMetadata object;
        try {
            Class<? extends HasMetadata> type = kind == 0 ? GenericKubernetesResource.class : kind == 1 ? Pod.class : Service.class;
            object = JSON.readValue(json, type);
        } catch (JsonProcessingException | IllegalArgumentException notAnObject) {
            return;
        }
        if (object == null || object.getMetadata() == null || object.getMetadata().getName() == null
                || object.getMetadata().getNamespace() == null) {
            return; // the API server names every namespaced object
        }
        FuzzBounds.within(() -> {
            InputFile file = switch (object) {
                case GenericKubernetesResource cr -> KubernetesObjectRenderer.customResource(cr);
                case Pod pod -> KubernetesObjectRenderer.isMeshWorkload(pod) ? KubernetesObjectRenderer.workload(pod) : null;
                case Service service -> KubernetesObjectRenderer.service(service, List.of()).orElse(null);
                default -> throw new IllegalStateException(object.getClass().getName());
            };
            if (file != null) {
                assertThat(file.name()).startsWith("k8s:");
                MeshParser.parse(List.of(new dev.septa.policy.parse.InputFile(file.name(), file.text())));
            }
            return null;
        });
    }
}
