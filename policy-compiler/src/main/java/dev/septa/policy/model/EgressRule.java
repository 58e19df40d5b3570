package dev.septa.policy.model;

/**
 * One entry of a Segment's {@code spec.egress}: which Services the segment's members are given routes to when the
 * mesh's {@code defaultAction} is Allow (docs/decisions/0008-egress-scoping.md). Routing only, never access: the
 * destination's RBAC decides whatever is routed, and the Services an enforcing Allow intent lets a workload call are
 * always routed, in scope or not.
 */
public sealed interface EgressRule {
    /** Every Service of a namespace. */
    record NamespaceRule(String namespace) implements EgressRule { }

    /** One Service (every port of it). */
    record ServiceRule(String namespace, String name) implements EgressRule { }

    /** Every Service that selects a member of the segment (every port), as an intent's {@code to} would reach it. */
    record SegmentRule(SegmentRef segment) implements EgressRule { }
}
