package dev.septa.policy.rbac;

import java.util.Optional;

/**
 * What one RBAC filter did with a request: the enforcing engine's result ({@code rules}; empty when the filter has
 * none, in which case Envoy lets everything through) and the shadow engine's ({@code shadow_rules}; reported,
 * never enforced).
 */
public record FilterResult(String filterName, Optional<EngineResult> enforced, Optional<EngineResult> shadow) {
    public boolean allowed() {
        return enforced.map(EngineResult::allowed).orElse(true);
    }
}
