package dev.septa.policy.emit.grpc;

import com.google.protobuf.Any;
import dev.septa.policy.emit.ProxyResources;
import dev.septa.policy.emit.RbacConfigurer;
import dev.septa.policy.emit.TlsConfigurer;
import dev.septa.policy.emit.ProtoBuilders;
import dev.septa.policy.ir.IdentityKey;
import dev.septa.policy.ir.InboundPort;
import dev.septa.policy.ir.ServicePort;
import dev.septa.policy.ir.WorkloadPlan;
import dev.septa.policy.model.MtlsMode;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.ApiListener;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.NonForwardingAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Emits what grpc-java's xDS expects (see FACTS.md): per port a server listener named
 * {@code grpc/server?xds.resource.listening_address=0.0.0.0:PORT} whose own address is also 0.0.0.0 (grpc-java
 * ignores anything else), with the three RBAC filters before the router and its {@code non_forwarding_action} route
 * by RDS ({@code inbound|PORT}, carrying the RBAC as per-route overrides, decision 0009);
 * per reachable service port a client api_listener {@code NAME.NS:PORT} with RDS, its route config, an EDS
 * cluster and its endpoints. TLS comes from the {@code septa} certificate-provider instance. Client-side
 * resources are cached per service port and shared by all proxies. One instance per compile.
 */
public final class GrpcProxyEmitter {
    public static final String SERVER_PREFIX = "grpc/server?xds.resource.listening_address=";

    private final RbacConfigurer rbac;
    private final Map<ServicePort, Listener> clientListeners = new IdentityHashMap<>();
    private final Map<ServicePort, RouteConfiguration> routes = new IdentityHashMap<>();
    private final Map<ServicePort, Cluster> clusters = new IdentityHashMap<>();
    private final Map<ServicePort, ClusterLoadAssignment> endpoints = new IdentityHashMap<>();

    public GrpcProxyEmitter(RbacConfigurer rbac) {
        this.rbac = rbac;
    }

    private final Map<IdentityKey, ProxyResources> shared = new java.util.HashMap<>();

    /** Workloads with the same inbound form and reach (replicas, typically) get the very same resources. */
    public ProxyResources emit(WorkloadPlan plan) {
        return shared.computeIfAbsent(new IdentityKey(plan.ports(), plan.reachable(), plan.mtls()), k -> build(plan));
    }

    private ProxyResources build(WorkloadPlan plan) {
        List<Listener> listeners = new ArrayList<>();
        var tls = TlsConfigurer.grpcDownstream(plan.mtls() == MtlsMode.STRICT);
        List<RouteConfiguration> routeConfigs = new ArrayList<>();
        for (InboundPort port : plan.ports()) {
            listeners.add(serverListener(port, tls));
            routeConfigs.add(serverRoutes(port));
        }
        List<Cluster> clusterList = new ArrayList<>();
        List<ClusterLoadAssignment> claList = new ArrayList<>();
        for (ServicePort sp : plan.reachable()) {
            listeners.add(clientListeners.computeIfAbsent(sp, GrpcProxyEmitter::clientListener));
            routeConfigs.add(routes.computeIfAbsent(sp, s -> ProtoBuilders.routes(s.authority(),
                    List.of(ProtoBuilders.forwardAll(s.authority(), List.of(s.authority(), s.host()), s.clusterName())))));
            clusterList.add(clusters.computeIfAbsent(sp, GrpcProxyEmitter::cluster));
            claList.add(endpoints.computeIfAbsent(sp, s -> ProtoBuilders.loadAssignment(s.clusterName(), s.addresses(), s.port())));
        }
        listeners.sort(Comparator.comparing(Listener::getName));
        routeConfigs.sort(Comparator.comparing(RouteConfiguration::getName));
        return new ProxyResources(listeners, routeConfigs, clusterList, claList);
    }

    /**
     * The server listener of one port: TLS, and a connection manager whose filters are the same for every port and
     * policy (decision 0009) and whose routes come by RDS. A policy change is an RDS update, which grpc-java applies to
     * the connections it already has; a Listener change would drain them and only new connections would see it.
     */
    private static Listener serverListener(InboundPort port, io.envoyproxy.envoy.config.core.v3.TransportSocket tls) {
        String name = inboundRouteName(port);
        HttpConnectionManager hcm = HttpConnectionManager.newBuilder()
                .setStatPrefix("inbound_" + port.port())
                .setRds(Rds.newBuilder().setConfigSource(ProtoBuilders.ADS).setRouteConfigName(name))
                .addAllHttpFilters(RbacConfigurer.listenerHttpFilters(false))
                .addHttpFilters(ProtoBuilders.ROUTER)
                .build();
        return Listener.newBuilder()
                .setName(SERVER_PREFIX + "0.0.0.0:" + port.port())
                .setAddress(ProtoBuilders.address("0.0.0.0", port.port()))
                .setTrafficDirection(TrafficDirection.INBOUND)
                .addFilterChains(FilterChain.newBuilder().setName(name).addFilters(ProtoBuilders.filter(ProtoBuilders.HCM, hcm)).setTransportSocket(tls))
                .build();
    }

    /** The server's routes for one port: every call to the application ({@code non_forwarding_action}), with the port's RBAC. */
    private RouteConfiguration serverRoutes(InboundPort port) {
        String name = inboundRouteName(port);
        return RouteConfiguration.newBuilder().setName(name).addVirtualHosts(VirtualHost.newBuilder()
                        .setName(name).addDomains("*")
                        .addRoutes(Route.newBuilder().setMatch(RouteMatch.newBuilder().setPrefix("/"))
                                .setNonForwardingAction(NonForwardingAction.getDefaultInstance())
                                .putAllTypedPerFilterConfig(rbac.perRouteOverrides(port))))
                .build();
    }

    /** The RDS name of a port's server routes; unique in the proxy (client route names are {@code NAME.NS:PORT}). */
    public static String inboundRouteName(InboundPort port) {
        return "inbound|" + port.port();
    }

    private static Listener clientListener(ServicePort sp) {
        HttpConnectionManager hcm = HttpConnectionManager.newBuilder()
                .setStatPrefix("outbound_" + sp.port() + "_" + sp.host())
                .setRds(Rds.newBuilder().setConfigSource(ProtoBuilders.ADS).setRouteConfigName(sp.authority()))
                .addHttpFilters(ProtoBuilders.ROUTER)
                .build();
        return Listener.newBuilder().setName(sp.authority())
                .setApiListener(ApiListener.newBuilder().setApiListener(Any.pack(hcm))).build();
    }

    private static Cluster cluster(ServicePort sp) {
        return Cluster.newBuilder().setName(sp.clusterName()).setType(Cluster.DiscoveryType.EDS)
                .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setEdsConfig(ProtoBuilders.ADS).setServiceName(sp.clusterName()))
                .setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN)
                .setTransportSocket(TlsConfigurer.grpcUpstream(sp.identities()))
                .build();
    }
}
