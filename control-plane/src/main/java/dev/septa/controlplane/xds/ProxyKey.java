package dev.septa.controlplane.xds;

import dev.septa.policy.compile.Dialect;

/** A proxy's configuration depends on its node id and dialect only. */
public record ProxyKey(String nodeId, Dialect dialect) {}
