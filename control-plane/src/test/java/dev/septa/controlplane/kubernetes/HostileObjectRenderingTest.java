package dev.septa.controlplane.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.septa.policy.parse.InputFile;
import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.parse.MeshParser;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Hostile objects from the API server (a CR nested as deep as fabric8 reads, a pod with a 50 MB label value) render,
 * and the parser refuses them with one diagnostic on the object's {@code k8s:} name, within a second each.
 */
class HostileObjectRenderingTest {
    private static final Duration BOUND = Duration.ofSeconds(1);
    /** Writing and scanning 50 MB once is linear but not free on a loaded 2-core machine. */
    private static final Duration FIFTY_MB_BOUND = Duration.ofSeconds(5);

    private static List<String> errors(InputFile file) {
        var parsed = assertTimeoutPreemptively(file.text().length() > 10_000_000 ? FIFTY_MB_BOUND : BOUND, () -> MeshParser.parse(List.of(new dev.septa.policy.parse.InputFile(file.name(), file.text()))));
        return parsed.diagnostics().stream().filter(Diagnostic::isError).map(Diagnostic::toString).toList();
    }

    @Test
    void aCustomResourceNestedAsDeepAsTheApiClientReadsIsOneDiagnostic() {
        Object nested = "x";
        for (int i = 0; i < 990; i++) { // fabric8's Jackson reads at most 1,000 levels
            List<Object> level = new ArrayList<>();
            level.add(nested);
            nested = level;
        }
        GenericKubernetesResource cr = new GenericKubernetesResourceBuilder().withApiVersion("septa.dev/v1alpha1").withKind("Segment")
                .withNewMetadata().withName("deep").withNamespace("shop").endMetadata()
                .addToAdditionalProperties("spec", Map.of("selector", nested)).build();
        InputFile file = assertTimeoutPreemptively(BOUND, () -> KubernetesObjectRenderer.customResource(cr));
        assertThat(errors(file)).singleElement().asString()
                .startsWith("k8s:shop/Segment/deep:").contains(": error: YAML too large: nested more than 64 levels deep");
    }

    @Test
    void aPodWithAFiftyMegabyteLabelValueIsOneDiagnostic() {
        var pod = new PodBuilder().withNewMetadata().withName("p").withNamespace("shop")
                .addToLabels("app", "a".repeat(50 * 1024 * 1024)).endMetadata()
                .withNewSpec().withServiceAccountName("api").endSpec().withNewStatus().withPodIP("10.0.0.1").endStatus().build();
        InputFile file = assertTimeoutPreemptively(FIFTY_MB_BOUND, () -> KubernetesObjectRenderer.workload(pod));
        assertThat(errors(file)).singleElement().asString()
                .startsWith("k8s:shop/Pod/p:").contains(": error: YAML too large: a value of more than 65536 characters");
    }
}
