package dev.septa.policy.compile;

import dev.septa.policy.emit.ProxyResources;

/** One workload's proxy configuration in both dialects; {@code workloadId} is the xDS node id {@code ns/name}. */
public record CompiledProxy(String workloadId, ProxyResources envoy, ProxyResources grpc) {
    public ProxyResources resources(Dialect dialect) {
        return dialect == Dialect.ENVOY ? envoy : grpc;
    }
}
