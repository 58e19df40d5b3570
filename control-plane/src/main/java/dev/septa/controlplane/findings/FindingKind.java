package dev.septa.controlplane.findings;

/** What a finding says about the traffic (docs/incident-response.md, Detect). */
public enum FindingKind {
    /** A source whose denied calls exceeded {@code probeThreshold} within {@code probeWindow}: lateral-movement probing. */
    PROBING,
    /** An allowed edge (source, destination, port) first seen after the learning window: new behaviour. */
    NEW_EDGE,
    /** Allowed traffic that a DryRun Deny intent would deny once enforced. */
    WOULD_DENY
}
