package dev.septa.policy.model;

/**
 * What happens to traffic no enforcing intent decides. DENY is zero trust. ALLOW leaves open only the
 * (workload, port) pairs that no enforcing Allow intent targets.
 */
public enum DefaultAction { ALLOW, DENY }
