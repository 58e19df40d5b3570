package dev.septa.policy.emit.envoy;

import dev.septa.policy.emit.ProxyResources;
import dev.septa.policy.emit.RbacConfigurer;
import dev.septa.policy.ir.WorkloadPlan;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import dev.septa.policy.ir.IdentityKey;

/** Emits one Envoy sidecar's resources (docs/architecture.md, xDS conventions). One instance per compile; it caches shared resources. */
public final class EnvoyProxyEmitter {
    private final EnvoyInboundConfigurer inbound;
    private final EnvoyOutboundConfigurer outbound = new EnvoyOutboundConfigurer();

    public EnvoyProxyEmitter(RbacConfigurer rbac) {
        this.inbound = new EnvoyInboundConfigurer(rbac);
    }

    private final Map<IdentityKey, ProxyResources> shared = new HashMap<>();

    /** Workloads with the same inbound form and reach (replicas, typically) get the very same resources. */
    public ProxyResources emit(WorkloadPlan plan) {
        return shared.computeIfAbsent(new IdentityKey(plan.ports(), plan.otherPorts(), plan.reachable(), plan.mtls()),
                k -> build(plan));
    }

    private ProxyResources build(WorkloadPlan plan) {
        List<Listener> listeners = List.of(inbound.listener(plan), outbound.listener(plan));
        List<Cluster> clusters = new ArrayList<>(inbound.clusters(plan));
        clusters.addAll(outbound.clusters(plan));
        clusters.sort(Comparator.comparing(Cluster::getName));
        List<RouteConfiguration> routes = new ArrayList<>(inbound.routes(plan));
        routes.addAll(outbound.routes(plan));
        routes.sort(Comparator.comparing(RouteConfiguration::getName));
        return new ProxyResources(listeners, routes, clusters, outbound.endpoints(plan));
    }
}
