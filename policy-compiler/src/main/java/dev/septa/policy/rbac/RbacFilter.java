package dev.septa.policy.rbac;

import java.util.Optional;

/**
 * A compiled RBAC filter, HTTP or network: optional enforcing rules and optional shadow rules. Envoy evaluates
 * both on every request; only the enforcing result can stop it. Immutable, thread-safe.
 */
public record RbacFilter(String name, boolean network, Optional<RbacEngine> rules, Optional<RbacEngine> shadowRules) {

    public FilterResult evaluate(RbacRequest request) {
        // A network filter runs before any HTTP parsing: it never sees headers.
        RbacRequest seen = network ? request.withoutHeaders() : request;
        return new FilterResult(name, rules.map(e -> e.evaluate(seen)), shadowRules.map(e -> e.evaluate(seen)));
    }
}
