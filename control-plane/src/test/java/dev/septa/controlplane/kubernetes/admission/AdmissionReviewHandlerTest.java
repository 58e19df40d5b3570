package dev.septa.controlplane.kubernetes.admission;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.septa.sidecar.inject.InjectionSettings;
import dev.septa.sidecar.inject.PodInjector;
import io.fabric8.kubernetes.api.model.Pod;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonStructure;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;

/**
 * The webhook's logic on AdmissionReview v1 documents shaped as kube-apiserver sends them (test resources), with the
 * patch applied by an independent RFC 6902 implementation (Eclipse Parsson) to the object as received.
 */
class AdmissionReviewHandlerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final PodInjector injector = new PodInjector(InjectionSettings.defaults("cluster.local"));
    private final AdmissionReviewHandler handler = new AdmissionReviewHandler(injector);

    private static String resource(String name) throws Exception {
        try (var in = Objects.requireNonNull(AdmissionReviewHandlerTest.class.getResourceAsStream("/admission/" + name), name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The pod the API server would store: the request's object with the response's patch applied. */
    private static JsonNode patched(JsonNode object, JsonNode response) throws Exception {
        String patch = new String(Base64.getDecoder().decode(response.path("patch").asText()), StandardCharsets.UTF_8);
        JsonArray ops = Json.createReader(new StringReader(patch)).readArray();
        JsonStructure target = Json.createReader(new StringReader(object.toString())).read();
        return JSON.readTree(Json.createPatch(ops).apply(target).toString());
    }

    @Test
    void aDeploymentsPodGetsEnvoyThroughAPatchThatLeavesEverythingElseAsReceived() throws Exception {
        JsonNode review = JSON.readTree(resource("deployment-pod-create.json"));
        JsonNode reply = JSON.readTree(handler.handle(review.toString()));

        assertThat(reply.path("apiVersion").asText()).isEqualTo("admission.k8s.io/v1");
        assertThat(reply.path("kind").asText()).isEqualTo("AdmissionReview");
        JsonNode response = reply.path("response");
        assertThat(response.path("uid").asText()).isEqualTo("3b2c7e1a-5f0d-4c8e-9a61-2f4d8b7c9e10");
        assertThat(response.path("allowed").asBoolean()).isTrue();
        assertThat(response.path("patchType").asText()).isEqualTo("JSONPatch");

        JsonNode original = review.at("/request/object");
        JsonNode stored = patched(original, response);
        Pod expected = injector.inject(JSON.treeToValue(original, Pod.class), "shop").pod();
        assertThat(JSON.treeToValue(stored, Pod.class)).isEqualTo(expected);

        // The patch only adds: the app container, managed fields, owner references, status stay byte for byte.
        JsonNode ops = JSON.readTree(Base64.getDecoder().decode(response.path("patch").asText()));
        List<String> kinds = new ArrayList<>();
        ops.forEach(op -> kinds.add(op.path("op").asText() + " " + op.path("path").asText()));
        assertThat(kinds).containsExactlyInAnyOrder(
                "add /metadata/annotations/septa.dev~1status",
                "add /spec/volumes/2", "add /spec/volumes/3",
                "add /spec/initContainers");
        for (String untouched : new String[] {"/spec/containers", "/metadata/managedFields", "/metadata/ownerReferences", "/status",
                "/spec/tolerations", "/metadata/labels"}) {
            assertThat(stored.at(untouched)).as(untouched).isEqualTo(original.at(untouched));
        }
        assertThat(stored.at("/spec/initContainers/1/name").asText()).isEqualTo("septa-proxy");
        assertThat(stored.at("/spec/initContainers/1/args/1").asText()).contains("\"id\":\"shop/$(SEPTA_POD_NAME)\"", "\"tier\":\"backend\"");
        assertThat(response.at("/auditAnnotations/injection").asText()).contains("septa-proxy");

        // The API server calls reinvoked webhooks again with the patched pod: nothing more happens.
        ((com.fasterxml.jackson.databind.node.ObjectNode) review.path("request")).set("object", stored);
        JsonNode again = JSON.readTree(handler.handle(review.toString())).path("response");
        assertThat(again.has("patch")).isFalse();
        assertThat(again.at("/auditAnnotations/injection").asText()).startsWith("already injected");
    }

    @Test
    void aProxylessPodGetsTheAgentAndTheBootstrapInItsOwnContainers() throws Exception {
        JsonNode review = JSON.readTree(resource("proxyless-pod-create.json"));
        JsonNode response = JSON.readTree(handler.handle(review.toString())).path("response");
        JsonNode original = review.at("/request/object");
        JsonNode stored = patched(original, response);

        assertThat(stored.at("/spec/initContainers/0/name").asText()).isEqualTo("septa-agent");
        assertThat(stored.at("/spec/initContainers/0/securityContext/runAsUser").asLong()).isEqualTo(10001);
        assertThat(stored.at("/spec/containers/0/env/0/name").asText()).isEqualTo("SEPTA_POD_NAME");
        assertThat(stored.at("/spec/containers/0/env/1/name").asText()).isEqualTo("GRPC_XDS_BOOTSTRAP_CONFIG");
        assertThat(stored.at("/spec/containers/0/securityContext")).isEqualTo(original.at("/spec/containers/0/securityContext"));
        assertThat(stored.at("/spec/containers/0/resources")).as("an empty object the API server sent stays").isEqualTo(original.at("/spec/containers/0/resources"));
        assertThat(stored.at("/spec/automountServiceAccountToken").asBoolean(true))
                .as("the projected septa token does not need the API token").isFalse();
        assertThat(stored.at("/metadata/annotations").path("septa.dev/status").asText()).isEqualTo("grpc");
        assertThat(JSON.treeToValue(stored, Pod.class)).isEqualTo(injector.inject(JSON.treeToValue(original, Pod.class), "shop").pod());
    }

    @Test
    void whatIsNotInjectedIsAllowedUnchangedWithTheReason() throws Exception {
        JsonNode host = JSON.readTree(handler.handle(resource("hostnetwork-pod-create.json"))).path("response");
        assertThat(host.path("allowed").asBoolean()).isTrue();
        assertThat(host.has("patch")).isFalse();
        assertThat(host.path("uid").asText()).isEqualTo("9c41e2b7-6d3a-4f85-a0e9-1b7d5c2f8a36");
        assertThat(host.at("/auditAnnotations/injection").asText()).startsWith("skipped: hostNetwork");

        JsonNode update = JSON.readTree(handler.handle(resource("pod-update.json"))).path("response");
        assertThat(update.path("allowed").asBoolean()).isTrue();
        assertThat(update.has("patch")).isFalse();
        assertThat(update.at("/auditAnnotations/injection").asText()).isEqualTo("not a pod creation");
    }

    @Test
    void somethingThatIsNotAReviewIsRejected() throws Exception {
        assertThatThrownBy(() -> handler.handle("{")).isInstanceOf(AdmissionReviewHandler.BadReview.class).hasMessageStartingWith("not JSON");
        String v1beta1 = resource("hostnetwork-pod-create.json").replace("admission.k8s.io/v1", "admission.k8s.io/v1beta1");
        assertThatThrownBy(() -> handler.handle(v1beta1)).hasMessageContaining("expected apiVersion admission.k8s.io/v1");
        String noUid = resource("hostnetwork-pod-create.json").replace("\"uid\": \"9c41e2b7-6d3a-4f85-a0e9-1b7d5c2f8a36\",", "");
        assertThatThrownBy(() -> handler.handle(noUid)).hasMessage("request.uid is missing");
    }
}
