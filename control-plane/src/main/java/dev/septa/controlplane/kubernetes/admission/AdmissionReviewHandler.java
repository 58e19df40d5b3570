package dev.septa.controlplane.kubernetes.admission;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.septa.sidecar.inject.PodInjector;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Objects;

/**
 * The mutating admission webhook's logic as a pure function: an {@code admission.k8s.io/v1} AdmissionReview in, the
 * AdmissionReview to answer with out. A pod CREATE gets the {@link PodInjector}'s mutation as a base64 JSONPatch,
 * computed by diffing the pod as received with the injected one. The webhook never denies: anything it does not
 * inject (other kinds and operations, opted-out, hostNetwork or already injected pods, a pod it cannot read) is
 * allowed unchanged, with the reason as an audit annotation. Serving it over HTTPS is not part of this class.
 */
public final class AdmissionReviewHandler {
    public static final String API_VERSION = "admission.k8s.io/v1";
    /** The audit annotation key (the API server prefixes it with the webhook's name). */
    public static final String AUDIT_KEY = "injection";

    /**
     * Jackson's defaults allow 1,000 levels and 20 MB strings; a pod nests about 10 levels deep, and the body is at
     * most {@link WebhookServer#MAX_BODY_BYTES}. The same bounds as {@code septa inject}'s YAML (docs/security.md).
     */
    static final StreamReadConstraints LIMITS = StreamReadConstraints.builder()
            .maxNestingDepth(100).maxStringLength(WebhookServer.MAX_BODY_BYTES).build();
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder().streamReadConstraints(LIMITS).build());
    private final PodInjector injector;

    public AdmissionReviewHandler(PodInjector injector) {
        this.injector = Objects.requireNonNull(injector, "injector");
    }

    /** Thrown for a body that is not an AdmissionReview v1 request: the server answers 400, not an admission response. */
    public static final class BadReview extends Exception {
        BadReview(String message) {
            super(message);
        }

        /** A value from the body, as the one-line 400 may echo it: cut short, control characters escaped. */
        static String echo(String value) {
            return "'" + dev.septa.policy.model.Printable.cut(value, 80) + "'";
        }
    }

    public String handle(String reviewJson) throws BadReview {
        JsonNode review;
        try {
            review = JSON.readTree(reviewJson);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            var at = e.getLocation();
            throw new BadReview("not JSON" + (at == null || at.getLineNr() < 1 ? "" : " at line " + at.getLineNr() + ", column "
                    + at.getColumnNr()) + ": " + e.getOriginalMessage().lines().findFirst().orElse(""));
        }
        if (review == null || !review.isObject()) {
            throw new BadReview("expected an AdmissionReview object");
        }
        if (!API_VERSION.equals(review.path("apiVersion").asText()) || !"AdmissionReview".equals(review.path("kind").asText())) {
            throw new BadReview("expected apiVersion " + API_VERSION + ", kind AdmissionReview; got "
                    + BadReview.echo(review.path("apiVersion").asText("(none)")) + ", " + BadReview.echo(review.path("kind").asText("(none)")));
        }
        JsonNode request = review.path("request");
        String uid = request.path("uid").asText("");
        if (uid.isEmpty()) {
            throw new BadReview("request.uid is missing");
        }
        ObjectNode response = JSON.createObjectNode().put("uid", uid).put("allowed", true);
        JsonNode kind = request.path("kind");
        if (!"Pod".equals(kind.path("kind").asText()) || !kind.path("group").asText("").isEmpty()
                || !"CREATE".equals(request.path("operation").asText()) || !request.path("subResource").asText("").isEmpty()) {
            return reply(response, "not a pod creation");
        }
        JsonNode object = request.path("object");
        if (!object.isObject()) {
            // A pod creation always carries the pod; null or absent is a malformed review, not a pod to pass over.
            throw new BadReview("request.object must be the pod being created (a JSON object); got "
                    + (object.isMissingNode() ? "nothing" : object.getNodeType().name().toLowerCase()));
        }
        Pod pod;
        try {
            pod = JSON.treeToValue(object, Pod.class);
        } catch (IOException | IllegalArgumentException e) {
            return reply(response, "pod not readable, left unchanged: " + e.getMessage().lines().findFirst().orElse(""));
        }
        var result = injector.inject(pod, request.path("namespace").asText(null));
        if (!result.injected()) {
            return reply(response, result.outcome().name().toLowerCase().replace('_', ' ') + ": " + result.reason());
        }
        // Diff against the pod as fabric8 reads it: the patch then holds only the injection, and every path it
        // touches exists in the object as received (fabric8 drops nothing a pod may carry).
        JsonNode patch = JsonPatchDiff.diff(JSON.valueToTree(pod), JSON.valueToTree(result.pod()));
        response.put("patchType", "JSONPatch");
        response.put("patch", Base64.getEncoder().encodeToString(patch.toString().getBytes(StandardCharsets.UTF_8)));
        return reply(response, result.reason());
    }

    private static String reply(ObjectNode response, String reason) {
        response.putObject("auditAnnotations").put(AUDIT_KEY, reason);
        ObjectNode review = JSON.createObjectNode().put("apiVersion", API_VERSION).put("kind", "AdmissionReview");
        review.set("response", response);
        return review.toString();
    }
}
