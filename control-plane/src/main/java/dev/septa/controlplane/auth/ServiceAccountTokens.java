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

    record ServiceAccount(String namespace, String name) {
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
