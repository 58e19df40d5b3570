package dev.septa.manifests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.model.Intent;
import dev.septa.policy.parse.InputFile;
import dev.septa.policy.parse.ParseResult;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The manifests apply to fabric8's mock API server in CRUD mode, and the shop example's Segments, Intents and
 * MeshConfig go in as custom resources and come back out as what the compiler's parser reads as it reads the files.
 */
@EnableKubernetesMockClient(crud = true)
class CrdMockServerTest {
    KubernetesClient client;

    @BeforeEach
    void applyCrds() throws Exception {
        for (Path file : Manifests.files()) {
            if (file.getParent().getFileName().toString().equals("crds")) {
                try (InputStream in = new FileInputStream(file.toFile())) {
                    CustomResourceDefinition crd = client.apiextensions().v1().customResourceDefinitions().load(in).item();
                    client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
                }
            }
        }
    }

    @Test
    void everyManifestApplies() throws Exception {
        List<HasMetadata> created = new ArrayList<>();
        for (Path file : Manifests.files()) {
            if (!file.getParent().getFileName().toString().equals("crds")) {
                try (InputStream in = new FileInputStream(file.toFile())) {
                    created.addAll(client.load(in).create());
                }
            }
        }
        assertThat(created).hasSize(10);
        assertThat(client.apps().deployments().inNamespace("septa-system").withName("septa").get().getSpec().getReplicas()).isEqualTo(3);
        assertThat(client.policy().v1().podDisruptionBudget().inNamespace("septa-system").withName("septa").get()).isNotNull();
        assertThat(client.admissionRegistration().v1().mutatingWebhookConfigurations().withName("septa-injector").get()
                .getWebhooks().getFirst().getFailurePolicy()).isEqualTo("Fail");
        assertThat(client.apiextensions().v1().customResourceDefinitions().list().getItems())
                .extracting(c -> c.getMetadata().getName())
                .containsExactlyInAnyOrder("segments.septa.dev", "intents.septa.dev", "meshconfigs.septa.dev", "quarantines.septa.dev");
    }

    @Test
    void theShopsPolicyRoundTripsAsCustomResources() {
        List<InputFile> fromFiles = Manifests.shopFiles().stream().map(Manifests::input).toList();
        ParseResult expected = Manifests.parse(fromFiles);
        assertThat(expected.diagnostics()).filteredOn(Diagnostic::isError).isEmpty();

        int count = 0;
        for (Path file : Manifests.shopFiles()) {
            for (JsonNode doc : Manifests.yaml(file)) {
                var resource = Manifests.YAML.convertValue(doc, GenericKubernetesResource.class);
                var resources = client.genericKubernetesResources(doc.path("apiVersion").asText(), doc.path("kind").asText());
                if (resource.getMetadata().getNamespace() != null) {
                    resources.inNamespace(resource.getMetadata().getNamespace()).resource(resource).create();
                } else {
                    resources.resource(resource).create();
                }
                count++;
            }
        }

        // Read back the way a Kubernetes source would: list each kind, keep what the API defines (drop server fields).
        StringBuilder readBack = new StringBuilder();
        int listed = 0;
        for (String kind : List.of("Segment", "Intent", "MeshConfig")) {
            var items = kind.equals("MeshConfig")
                    ? client.genericKubernetesResources("septa.dev/v1alpha1", kind).list().getItems()
                    : client.genericKubernetesResources("septa.dev/v1alpha1", kind).inAnyNamespace().list().getItems();
            for (GenericKubernetesResource item : items) {
                assertThat(item.getMetadata().getUid()).as("stored by the server").isNotBlank();
                ObjectNode json = Manifests.YAML.valueToTree(item);
                ObjectNode meta = json.putObject("metadata");
                meta.put("name", item.getMetadata().getName());
                if (item.getMetadata().getNamespace() != null) {
                    meta.put("namespace", item.getMetadata().getNamespace());
                }
                readBack.append("---\n").append(json.toString()).append('\n');
                listed++;
            }
        }
        assertThat(listed).isEqualTo(count).isGreaterThan(10);
        ParseResult actual = Manifests.parse(List.of(new InputFile("api-server", readBack.toString())));
        assertThat(actual.diagnostics()).filteredOn(Diagnostic::isError).isEmpty();
        assertThat(actual.mesh().config()).isEqualTo(expected.mesh().config());
        assertThat(summaries(actual.mesh().intents())).containsExactlyInAnyOrderElementsOf(summaries(expected.mesh().intents()));
        assertThat(actual.mesh().segments()).extracting(s -> s.metadata().qualifiedName() + " " + s.selector())
                .containsExactlyInAnyOrderElementsOf(expected.mesh().segments().stream()
                        .map(s -> s.metadata().qualifiedName() + " " + s.selector()).toList());
    }

    /** An intent without its source position (which differs between the files and the API). */
    private static List<String> summaries(List<Intent> intents) {
        return intents.stream().map(i -> i.qualifiedName() + " " + i.action() + " " + i.mode() + " " + i.from() + " " + i.to()).toList();
    }
}
