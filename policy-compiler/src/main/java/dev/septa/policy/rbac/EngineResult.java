package dev.septa.policy.rbac;

import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import java.util.Optional;

/**
 * One RBAC engine's answer: its action, and the policy that matched (Envoy's {@code effective_policy_id}),
 * empty when none did. An ALLOW engine allows exactly when a policy matched; a DENY engine denies exactly then.
 */
public record EngineResult(RBAC.Action action, Optional<String> matchedPolicy) {
    public boolean allowed() {
        return (action == RBAC.Action.ALLOW) == matchedPolicy.isPresent();
    }
}
