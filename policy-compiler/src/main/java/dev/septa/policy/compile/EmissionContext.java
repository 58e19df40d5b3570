package dev.septa.policy.compile;

import dev.septa.policy.emit.ProxyResources;
import dev.septa.policy.emit.RbacConfigurer;
import dev.septa.policy.emit.envoy.EnvoyProxyEmitter;
import dev.septa.policy.emit.grpc.GrpcProxyEmitter;
import dev.septa.policy.ir.WorkloadPlan;

/**
 * The emitters of one compile. They share per-compile caches (RBAC policies across dialects, resources per service
 * port) that are not thread-safe, so emissions through one context run one at a time. The caches are keyed by
 * plan objects and only avoid building equal protos twice: the bytes of an emission do not depend on which
 * emissions ran before it.
 */
final class EmissionContext {
    private final RbacConfigurer rbac = new RbacConfigurer();
    private final EnvoyProxyEmitter envoy = new EnvoyProxyEmitter(rbac);
    private final GrpcProxyEmitter grpc = new GrpcProxyEmitter(rbac);

    synchronized ProxyResources emit(Dialect dialect, WorkloadPlan plan) {
        return dialect == Dialect.ENVOY ? envoy.emit(plan) : grpc.emit(plan);
    }
}
