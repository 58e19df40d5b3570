package dev.septa.controlplane.auth;

import dev.septa.identity.SpiffeId;
import java.util.Optional;

/**
 * Who a Kubernetes service-account token names (decision 0005: injected pods present a projected token of audience
 * {@code septa}). Empty when the token does not authenticate; {@link ReviewException} when it cannot be told (the
 * API server is unreachable), which the xDS server reports as such rather than as a bad token.
 */
public interface ServiceAccountTokens {

    String AUDIENCE = "septa";

    /**
     * A reviewed token's service account, and the pod it is bound to: {@code podName} and {@code podUid} come from
     * the TokenReview's user extra ({@code authentication.kubernetes.io/pod-name}, {@code .../pod-uid}) and are null
     * for a token not bound to a pod (a legacy Secret token, or a TokenRequest for the service account alone).
     */
    record ServiceAccount(String namespace, String name, String podName, String podUid) {
        public ServiceAccount(String namespace, String name) {
            this(namespace, name, null, null);
        }

        public String spiffePath() {
            return SpiffeId.path(namespace, name);
        }
    }

    Optional<ServiceAccount> review(String token) throws ReviewException;

    final class ReviewException extends Exception {
        public ReviewException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
