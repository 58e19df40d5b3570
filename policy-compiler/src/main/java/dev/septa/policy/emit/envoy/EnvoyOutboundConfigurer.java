package dev.septa.policy.emit.envoy;

import dev.septa.policy.emit.TlsConfigurer;
import dev.septa.policy.emit.ProtoBuilders;
import dev.septa.policy.ir.ServicePort;
import dev.septa.policy.ir.WorkloadPlan;
import dev.septa.policy.model.Protocol;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.CidrRange;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import com.google.protobuf.UInt32Value;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The sidecar's {@code outbound} listener (0.0.0.0:15001) and what it needs, only for the service ports the
 * workload may reach: per HTTP/gRPC port a chain with RDS route config {@code outbound|PORT} (one virtual host
 * per service); per TCP service port a chain matching the members' addresses; everything else goes to a
 * cluster without endpoints. Clusters and load assignments are shared by every proxy that reaches them.
 */
final class EnvoyOutboundConfigurer {
    static final String NAME = "outbound";
    static final int PORT = 15001;
    static final String BLACKHOLE = "blackhole";

    private final Map<ServicePort, Cluster> clusters = new IdentityHashMap<>();
    private final Map<ServicePort, ClusterLoadAssignment> endpoints = new IdentityHashMap<>();
    private final Map<ServicePort, VirtualHost> virtualHosts = new IdentityHashMap<>();

    Listener listener(WorkloadPlan plan) {
        Listener.Builder listener = Listener.newBuilder().setName(NAME).setAddress(ProtoBuilders.address("0.0.0.0", PORT))
                .setTrafficDirection(TrafficDirection.OUTBOUND).addListenerFilters(EnvoyInboundConfigurer.ORIGINAL_DST);
        Map<Integer, Boolean> httpPorts = new TreeMap<>();
        // Envoy rejects two chains with the same (port, address) match: an address selected by two TCP services
        // on one port goes to the first of them (by cluster name).
        Set<String> tcpMatches = new HashSet<>();
        List<FilterChain> tcpChains = new ArrayList<>();
        for (ServicePort sp : plan.reachable()) {
            if (sp.protocol().isHttp()) {
                httpPorts.put(sp.port(), true);
                continue;
            }
            FilterChainMatch.Builder match = FilterChainMatch.newBuilder().setDestinationPort(UInt32Value.of(sp.port()));
            for (String a : sp.addresses()) {
                if (tcpMatches.add(sp.port() + "|" + a)) {
                    match.addPrefixRanges(CidrRange.newBuilder().setAddressPrefix(a).setPrefixLen(UInt32Value.of(a.contains(":") ? 128 : 32)));
                }
            }
            if (match.getPrefixRangesCount() > 0) {
                tcpChains.add(FilterChain.newBuilder().setName(sp.clusterName()).setFilterChainMatch(match)
                        .addFilters(EnvoyInboundConfigurer.tcpProxy("outbound_" + sp.port() + "_" + sp.host(), sp.clusterName())).build());
            }
        }
        for (int port : httpPorts.keySet()) {
            HttpConnectionManager hcm = HttpConnectionManager.newBuilder().setStatPrefix("outbound_" + port)
                    .setRds(Rds.newBuilder().setConfigSource(ProtoBuilders.ADS).setRouteConfigName(routeName(port)))
                    .addHttpFilters(ProtoBuilders.ROUTER).build();
            listener.addFilterChains(FilterChain.newBuilder().setName(routeName(port))
                    .setFilterChainMatch(FilterChainMatch.newBuilder().setDestinationPort(UInt32Value.of(port)))
                    .addFilters(ProtoBuilders.filter(ProtoBuilders.HCM, hcm)));
        }
        listener.addAllFilterChains(tcpChains);
        // Egress to anything not allowed ends in a cluster without endpoints.
        listener.setDefaultFilterChain(FilterChain.newBuilder().setName(BLACKHOLE)
                .addFilters(EnvoyInboundConfigurer.tcpProxy("outbound_blackhole", BLACKHOLE)));
        return listener.build();
    }

    List<RouteConfiguration> routes(WorkloadPlan plan) {
        Map<Integer, List<VirtualHost>> byPort = new TreeMap<>();
        for (ServicePort sp : plan.reachable()) {
            if (sp.protocol().isHttp()) {
                byPort.computeIfAbsent(sp.port(), k -> new ArrayList<>())
                        .add(virtualHosts.computeIfAbsent(sp, s -> ProtoBuilders.forwardAll(s.authority(), List.of(s.host(), s.authority()), s.clusterName())));
            }
        }
        List<RouteConfiguration> routes = new ArrayList<>();
        byPort.forEach((port, hosts) -> routes.add(ProtoBuilders.routes(routeName(port), hosts)));
        return routes;
    }

    List<Cluster> clusters(WorkloadPlan plan) {
        List<Cluster> out = new ArrayList<>();
        out.add(Cluster.newBuilder().setName(BLACKHOLE).setType(Cluster.DiscoveryType.STATIC)
                .setLoadAssignment(ProtoBuilders.loadAssignment(BLACKHOLE, List.of(), 1)).build());
        for (ServicePort sp : plan.reachable()) {
            out.add(clusters.computeIfAbsent(sp, EnvoyOutboundConfigurer::cluster));
        }
        return out;
    }

    List<ClusterLoadAssignment> endpoints(WorkloadPlan plan) {
        List<ClusterLoadAssignment> out = new ArrayList<>(plan.reachable().size());
        for (ServicePort sp : plan.reachable()) {
            out.add(endpoints.computeIfAbsent(sp, s -> ProtoBuilders.loadAssignment(s.clusterName(), s.addresses(), s.port())));
        }
        return out;
    }

    private static Cluster cluster(ServicePort sp) {
        List<String> alpn = sp.protocol() == Protocol.GRPC ? List.of("h2") : List.of();
        Cluster.Builder c = Cluster.newBuilder().setName(sp.clusterName()).setType(Cluster.DiscoveryType.EDS)
                .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setEdsConfig(ProtoBuilders.ADS).setServiceName(sp.clusterName()))
                .setTransportSocket(TlsConfigurer.envoyUpstream(sp.host(), sp.identities(), alpn));
        if (sp.protocol() == Protocol.GRPC) {
            c.putTypedExtensionProtocolOptions(EnvoyInboundConfigurer.HTTP_PROTOCOL_OPTIONS, EnvoyInboundConfigurer.http2Options());
        }
        return c.build();
    }

    static String routeName(int port) {
        return "outbound|" + port;
    }
}
