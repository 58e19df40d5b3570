package dev.septa.controlplane.graph;

/** What the destination's RBAC did with the call. */
public enum Verdict {
    ALLOW, DENY
}
