package dev.septa.policy.emit.envoy;

import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.CommonGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.TcpGrpcAccessLogConfig;
import com.google.protobuf.Any;
import dev.septa.policy.emit.RbacConfigurer;
import dev.septa.policy.emit.TlsConfigurer;
import dev.septa.policy.emit.ProtoBuilders;
import dev.septa.policy.ir.InboundPort;
import dev.septa.policy.ir.WorkloadPlan;
import dev.septa.policy.model.MtlsMode;
import dev.septa.policy.model.Protocol;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import com.google.protobuf.BoolValue;
import com.google.protobuf.UInt32Value;
import java.util.ArrayList;
import java.util.List;

/**
 * The sidecar's {@code inbound} listener (0.0.0.0:15006): one filter chain per port, matched on the original
 * destination port, each with the RBAC filters of decision 0001, and a default chain with network RBAC for
 * every other port. HTTP and gRPC chains are constant for a port: their routes, and in them the RBAC, come by RDS
 * (decision 0009); TCP chains carry network RBAC, so a policy change there changes (and drains) that chain. Also the local clusters the chains forward to ({@code inbound|PORT||} on 127.0.0.1).
 *
 * <p>{@code mtls: Permissive} (a migration mode, as in Istio) also accepts plaintext: the TLS inspector tells the
 * two apart, and each port gets a twin chain for {@code raw_buffer} with the same filters and no TLS. A plaintext
 * peer has no principal, so the RBAC filters still admit it only where the decision does not depend on who calls
 * (a port no enforcing Allow closes under {@code defaultAction: Allow}).
 */
final class EnvoyInboundConfigurer {
    static final String NAME = "inbound";
    static final int PORT = 15006;
    static final String PASSTHROUGH = "inbound-passthrough";
    static final ListenerFilter ORIGINAL_DST = ListenerFilter.newBuilder()
            .setName("envoy.filters.listener.original_dst").setTypedConfig(Any.pack(OriginalDst.getDefaultInstance())).build();
    static final ListenerFilter TLS_INSPECTOR = ListenerFilter.newBuilder().setName("envoy.filters.listener.tls_inspector")
            .setTypedConfig(Any.pack(io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector.getDefaultInstance()))
            .build();
    static final String TLS = "tls";
    static final String PLAINTEXT = "raw_buffer";
    private static final Any HTTP2 = Any.pack(HttpProtocolOptions.newBuilder()
            .setExplicitHttpConfig(HttpProtocolOptions.ExplicitHttpConfig.newBuilder().setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance()))
            .build());
    static final String HTTP_PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

    /** The Envoy bootstrap's static cluster to the control plane's access log service (sidecar-config). */
    public static final String ACCESS_LOG_CLUSTER = "septa-als";
    public static final String ACCESS_LOG_NAME = "septa.inbound";

    /**
     * A path with {@code %2F} or {@code %5C} is answered with a redirect to its unescaped form, never forwarded: an
     * application that decodes them would otherwise see a path the RBAC did not (docs/check.md).
     */
    static final HttpConnectionManager.PathWithEscapedSlashesAction ESCAPED_SLASHES =
            HttpConnectionManager.PathWithEscapedSlashesAction.UNESCAPE_AND_REDIRECT;

    private final RbacConfigurer rbac;

    EnvoyInboundConfigurer(RbacConfigurer rbac) {
        this.rbac = rbac;
    }

    Listener listener(WorkloadPlan plan) {
        TransportSocket tcpTls = TlsConfigurer.envoyDownstream(plan.mtls() == MtlsMode.STRICT, List.of());
        TransportSocket httpTls = TlsConfigurer.envoyDownstream(plan.mtls() == MtlsMode.STRICT, List.of("h2", "http/1.1"));
        boolean permissive = plan.mtls() == MtlsMode.PERMISSIVE;
        Listener.Builder listener = Listener.newBuilder().setName(NAME).setAddress(ProtoBuilders.address("0.0.0.0", PORT))
                .setTrafficDirection(TrafficDirection.INBOUND).addListenerFilters(ORIGINAL_DST);
        if (permissive) {
            listener.addListenerFilters(TLS_INSPECTOR);
        }
        for (InboundPort port : plan.ports()) {
            FilterChain.Builder chain = FilterChain.newBuilder().setName("inbound|" + port.port())
                    .setFilterChainMatch(FilterChainMatch.newBuilder().setDestinationPort(UInt32Value.of(port.port())));
            String cluster = localCluster(port.port());
            if (port.protocol().isHttp()) {
                HttpConnectionManager hcm = HttpConnectionManager.newBuilder()
                        .setStatPrefix("inbound_" + port.port())
                        // RBAC must see the path the application will see: "//admin/x", "/./admin/x",
                        // "/public/../admin/x" and "/%61dmin/x" are all "/admin/x" (docs/check.md).
                        .setNormalizePath(BoolValue.of(true))
                        .setMergeSlashes(true)
                        .setPathWithEscapedSlashesAction(ESCAPED_SLASHES)
                        // By RDS, so that a policy change never changes this chain (decision 0009).
                        .setRds(Rds.newBuilder().setConfigSource(ProtoBuilders.ADS).setRouteConfigName(routeName(port)))
                        .addAllHttpFilters(RbacConfigurer.listenerHttpFilters(true))
                        .addAccessLog(httpAccessLog())
                        .addHttpFilters(ProtoBuilders.ROUTER)
                        .build();
                chain.addFilters(ProtoBuilders.filter(ProtoBuilders.HCM, hcm)).setTransportSocket(httpTls);
            } else {
                chain.addAllFilters(rbac.networkFilters(port, "inbound_" + port.port() + "_"))
                        .addFilters(tcpProxy("inbound_" + port.port(), cluster)).setTransportSocket(tcpTls);
            }
            if (permissive) {
                chain.getFilterChainMatchBuilder().setTransportProtocol(TLS);
            }
            listener.addFilterChains(chain);
            if (permissive) {
                listener.addFilterChains(plaintextTwin(chain));
            }
        }
        // Every other port: network RBAC with the default decision, so nothing undeclared is silently open.
        FilterChain.Builder other = FilterChain.newBuilder().setName("inbound|default")
                .addAllFilters(rbac.networkFilters(plan.otherPorts(), "inbound_default_"))
                .addFilters(tcpProxy("inbound_default", PASSTHROUGH));
        if (permissive) {
            listener.addFilterChains(plaintextTwin(other.clone().setFilterChainMatch(FilterChainMatch.newBuilder())));
        }
        listener.setDefaultFilterChain(other.setTransportSocket(tcpTls));
        return listener.build();
    }

    /**
     * The routes of the HTTP and gRPC ports ({@code inbound|PORT}): everything to the local cluster, with the port's
     * RBAC as per-route overrides of the chain's constant filters. Envoy applies an RDS update to the requests that
     * follow on connections it already has; a changed filter chain is drained instead.
     */
    List<RouteConfiguration> routes(WorkloadPlan plan) {
        List<RouteConfiguration> routes = new ArrayList<>();
        for (InboundPort port : plan.ports()) {
            if (port.protocol().isHttp()) {
                VirtualHost.Builder host = ProtoBuilders.forwardAll(routeName(port), List.of("*"), localCluster(port.port())).toBuilder();
                host.getRoutesBuilder(0).putAllTypedPerFilterConfig(rbac.perRouteOverrides(port));
                routes.add(ProtoBuilders.routes(routeName(port), List.of(host.build())));
            }
        }
        return routes;
    }

    static String routeName(InboundPort port) {
        return "inbound|" + port.port();
    }

    /** The same chain for plaintext connections: matched on {@code raw_buffer}, without the TLS transport socket. */
    private static FilterChain plaintextTwin(FilterChain.Builder tls) {
        FilterChain.Builder twin = tls.clone().clearTransportSocket().setName(tls.getName() + "|plaintext");
        twin.getFilterChainMatchBuilder().setTransportProtocol(PLAINTEXT);
        return twin.build();
    }

    List<Cluster> clusters(WorkloadPlan plan) {
        List<Cluster> clusters = new ArrayList<>();
        clusters.add(Cluster.newBuilder().setName(PASSTHROUGH)
                .setType(Cluster.DiscoveryType.ORIGINAL_DST).setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED).build());
        for (InboundPort port : plan.ports()) {
            String name = localCluster(port.port());
            Cluster.Builder c = Cluster.newBuilder().setName(name).setType(Cluster.DiscoveryType.STATIC)
                    .setLoadAssignment(ProtoBuilders.loadAssignment(name, List.of("127.0.0.1"), port.port()));
            if (port.protocol() == Protocol.GRPC) {
                c.putTypedExtensionProtocolOptions(HTTP_PROTOCOL_OPTIONS, HTTP2);
            }
            clusters.add(c.build());
        }
        return clusters;
    }

    static Any http2Options() {
        return HTTP2;
    }

    static String localCluster(int port) {
        return "inbound|" + port + "||";
    }

    static Filter tcpProxy(String statPrefix, String cluster) {
        return ProtoBuilders.filter("envoy.filters.network.tcp_proxy", TcpProxy.newBuilder().setStatPrefix(statPrefix).setCluster(cluster)
                .addAccessLog(tcpAccessLog()).build());
    }

    /**
     * Every inbound request (HTTP/gRPC) and connection (TCP) is logged to the control plane's access log service, with
     * the RBAC filters' dynamic metadata: the traffic graph. The cluster is a static cluster of the Envoy bootstrap
     * ({@code EnvoyBootstrapGenerator.ALS_CLUSTER} in sidecar-config, asserted equal by an e2e test).
     */
    private static final CommonGrpcAccessLogConfig ACCESS_LOG_COMMON = CommonGrpcAccessLogConfig.newBuilder()
            .setLogName(ACCESS_LOG_NAME)
            .setTransportApiVersion(io.envoyproxy.envoy.config.core.v3.ApiVersion.V3)
            .setGrpcService(GrpcService.newBuilder().setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName(ACCESS_LOG_CLUSTER)))
            .build();

    static AccessLog httpAccessLog() {
        return AccessLog.newBuilder().setName("envoy.access_loggers.http_grpc")
                .setTypedConfig(Any.pack(HttpGrpcAccessLogConfig.newBuilder().setCommonConfig(ACCESS_LOG_COMMON).build())).build();
    }

    static AccessLog tcpAccessLog() {
        return AccessLog.newBuilder().setName("envoy.access_loggers.tcp_grpc")
                .setTypedConfig(Any.pack(TcpGrpcAccessLogConfig.newBuilder().setCommonConfig(ACCESS_LOG_COMMON).build())).build();
    }
}
