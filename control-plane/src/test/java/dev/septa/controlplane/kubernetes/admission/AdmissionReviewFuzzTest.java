package dev.septa.controlplane.kubernetes.admission;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.septa.policy.parse.FuzzBounds;
import dev.septa.sidecar.inject.InjectionSettings;
import dev.septa.sidecar.inject.PodInjector;
import java.nio.charset.StandardCharsets;

/**
 * Fuzzes the webhook's AdmissionReview handler with arbitrary bodies (at most the server's 1 MiB): each is either
 * answered with an AdmissionReview that allows, for the request's uid, or refused with a {@link AdmissionReviewHandler.BadReview}
 * (the server's one-line 400), never another exception (a 500). Seeds: the review fixtures of the handler's tests.
 */
class AdmissionReviewFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AdmissionReviewHandler HANDLER = new AdmissionReviewHandler(new PodInjector(InjectionSettings.defaults("cluster.local")));

    static {
        try (var in = AdmissionReviewFuzzTest.class.getResourceAsStream("/admission/deployment-pod-create.json")) {
            HANDLER.handle(new String(in.readAllBytes(), StandardCharsets.UTF_8)); // warm-up, outside the per-input bound
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void handle(byte[] body) {
        if (body.length > WebhookServer.MAX_BODY_BYTES) {
            return; // the server answers 413 before the handler sees it
        }
        String text = new String(body, StandardCharsets.UTF_8);
        String answer = FuzzBounds.within(() -> {
            try {
                return HANDLER.handle(text);
            } catch (AdmissionReviewHandler.BadReview bad) {
                assertThat(bad.getMessage()).isNotBlank().doesNotContain("\n");
                return null;
            }
        });
        if (answer != null) {
            try {
                JsonNode response = JSON.readTree(answer).path("response");
                assertThat(response.path("allowed").asBoolean()).isTrue();
                assertThat(response.path("uid").asText()).isNotEmpty();
            } catch (java.io.IOException e) {
                throw new AssertionError("the handler answered with text that is not JSON", e);
            }
        }
    }
}
