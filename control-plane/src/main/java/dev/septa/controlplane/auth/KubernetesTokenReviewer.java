package dev.septa.controlplane.auth;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link ServiceAccountTokens} through the API server's TokenReview (audience {@code septa}), as Istio and Linkerd
 * check projected tokens. A token is accepted only when the API server authenticates it for that audience and names
 * a service account ({@code system:serviceaccount:NS:NAME}). Positive answers are cached for {@link #CACHE_FOR}
 * under the token's SHA-256 (never the token), so reconnect storms do not become TokenReview storms; the kubelet
 * rotates projected tokens long before that matters.
 */
public final class KubernetesTokenReviewer implements ServiceAccountTokens {
    static final Duration CACHE_FOR = Duration.ofMinutes(1);
    private static final String PREFIX = "system:serviceaccount:";
    /** What the API server adds to the user of a pod-bound projected token (KEP 1205, bound service account tokens). */
    static final String POD_NAME = "authentication.kubernetes.io/pod-name";
    static final String POD_UID = "authentication.kubernetes.io/pod-uid";
    private static final int MAX_CACHED = 50_000;

    private record Cached(ServiceAccount account, Instant until) {}

    private final KubernetesClient client;
    private final Clock clock;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    public KubernetesTokenReviewer(KubernetesClient client, Clock clock) {
        this.client = client;
        this.clock = clock;
    }

    @Override
    public Optional<ServiceAccount> review(String token) throws ReviewException {
        String key = sha256(token);
        Instant now = clock.instant();
        Cached hit = cache.get(key);
        if (hit != null && now.isBefore(hit.until())) {
            return Optional.of(hit.account());
        }
        TokenReview answer;
        try {
            answer = client.authentication().v1().tokenReviews().create(new TokenReviewBuilder()
                    .withNewSpec().withToken(token).withAudiences(AUDIENCE).endSpec().build());
        } catch (KubernetesClientException e) {
            throw new ReviewException("the Kubernetes API server could not review the token (" + e.getCode() + " "
                    + e.getMessage() + ")", e);
        }
        var status = answer == null ? null : answer.getStatus();
        if (status == null || !Boolean.TRUE.equals(status.getAuthenticated()) || status.getUser() == null
                || status.getAudiences() == null || !status.getAudiences().contains(AUDIENCE)) {
            return Optional.empty();
        }
        String user = status.getUser().getUsername();
        if (user == null || !user.startsWith(PREFIX)) {
            return Optional.empty();
        }
        String[] parts = user.substring(PREFIX.length()).split(":", -1);
        if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
            return Optional.empty();
        }
        var extra = status.getUser().getExtra();
        ServiceAccount account = new ServiceAccount(parts[0], parts[1], single(extra, POD_NAME), single(extra, POD_UID));
        if (cache.size() > MAX_CACHED) {
            cache.clear();
        }
        cache.put(key, new Cached(account, now.plus(CACHE_FOR)));
        return Optional.of(account);
    }

    /** The one value of a user-extra key, or null when absent or not exactly one non-empty value. */
    private static String single(Map<String, java.util.List<String>> extra, String key) {
        java.util.List<String> values = extra == null ? null : extra.get(key);
        return values != null && values.size() == 1 && values.getFirst() != null && !values.getFirst().isEmpty()
                ? values.getFirst() : null;
    }

    private static String sha256(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
