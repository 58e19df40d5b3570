package dev.septa.policy.compile;

import dev.septa.policy.emit.ProxyResources;
import java.util.List;

/**
 * One workload's proxy configuration in both dialects; {@code workloadId} is the xDS node id {@code ns/name}.
 * A compile emits a dialect only when it is first asked for ({@link #resources}), since a proxy connects with one
 * dialect: the control plane asks only for the dialect a node connected with, {@code septa compile} and the
 * checker for what they print or evaluate. Either way the bytes are those of an eager compile. Thread-safe.
 */
public final class CompiledProxy {
    private final String workloadId;
    private final Emission envoy;
    private final Emission grpc;

    /** A proxy whose resources are already emitted (tests, tools); either may be null (that dialect has none). */
    public CompiledProxy(String workloadId, ProxyResources envoy, ProxyResources grpc) {
        this(workloadId, Emission.of(Dialect.ENVOY, envoy), Emission.of(Dialect.GRPC, grpc));
    }

    CompiledProxy(String workloadId, Emission envoy, Emission grpc) {
        this.workloadId = workloadId;
        this.envoy = envoy;
        this.grpc = grpc;
    }

    public String workloadId() {
        return workloadId;
    }

    /** The resources in {@code dialect}, emitted now if this is the first time anyone asks. */
    public ProxyResources resources(Dialect dialect) {
        return emission(dialect).get();
    }

    public ProxyResources envoy() {
        return envoy.get();
    }

    public ProxyResources grpc() {
        return grpc.get();
    }

    /** Whether {@code dialect} has been emitted yet (for tests and stats; asking never emits). */
    public boolean emitted(Dialect dialect) {
        return emission(dialect).emitted();
    }

    /**
     * Equal (by {@code equals}) for two compiled proxies exactly when the compiler gave them the same emissions,
     * which it does when their emission input is equal by value (see {@link EmissionMemo}); compares without
     * emitting anything. The audit names the proxies a policy change affected with it.
     */
    public Object configurationIdentity() {
        return List.of(envoy, grpc);
    }

    Emission emission(Dialect dialect) {
        return dialect == Dialect.ENVOY ? envoy : grpc;
    }

    /**
     * Value equality, as when this was a record of both dialects' resources: same workload and the same resources
     * in both dialects. It emits both (tests and tools compare compiles with it; the control plane compares
     * {@link #configurationIdentity} instead, which emits nothing).
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof CompiledProxy other && workloadId.equals(other.workloadId)
                && java.util.Objects.equals(envoy(), other.envoy()) && java.util.Objects.equals(grpc(), other.grpc());
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(workloadId, envoy(), grpc());
    }

    @Override
    public String toString() {
        return "CompiledProxy[" + workloadId + "]";
    }
}
