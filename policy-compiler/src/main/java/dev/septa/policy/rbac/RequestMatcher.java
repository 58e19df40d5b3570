package dev.septa.policy.rbac;

/** A compiled Envoy permission or principal: a predicate over one request. */
@FunctionalInterface
interface RequestMatcher {
    boolean matches(RbacRequest request);

    RequestMatcher ANY = request -> true;
}
