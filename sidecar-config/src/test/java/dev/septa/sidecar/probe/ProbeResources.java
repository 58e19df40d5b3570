package dev.septa.sidecar.probe;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.ApiListener;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.config.route.v3.NonForwardingAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateProviderPluginInstance;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.type.matcher.v3.PathMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import java.util.List;

/** Hand-built proxyless resources, the shape the compiler emits for the grpc dialect (what the probe proves works). */
final class ProbeResources {
    private ProbeResources() {
    }

    static ConfigSource ads() {
        return ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance())
                .setResourceApiVersion(io.envoyproxy.envoy.config.core.v3.ApiVersion.V3).build();
    }

    static CommonTlsContext tls(String instance, List<String> peerSans) {
        var validation = CertificateValidationContext.newBuilder()
                .setCaCertificateProviderInstance(CertificateProviderPluginInstance.newBuilder()
                        .setInstanceName(instance).setCertificateName("ROOTCA"));
        peerSans.forEach(san -> validation.addMatchSubjectAltNames(StringMatcher.newBuilder().setExact(san)));
        return CommonTlsContext.newBuilder()
                .setTlsCertificateProviderInstance(CertificateProviderPluginInstance.newBuilder()
                        .setInstanceName(instance).setCertificateName("default"))
                .setValidationContext(validation)
                .build();
    }

    static HttpFilter filter(String name, com.google.protobuf.Message config) {
        return HttpFilter.newBuilder().setName(name).setTypedConfig(Any.pack(config)).build();
    }

    static Permission path(StringMatcher matcher) {
        return Permission.newBuilder().setUrlPath(PathMatcher.newBuilder().setPath(matcher)).build();
    }

    static Permission method(String method) {
        return Permission.newBuilder().setHeader(HeaderMatcher.newBuilder().setName(":method")
                .setStringMatch(StringMatcher.newBuilder().setExact(method))).build();
    }

    static Permission and(Permission... rules) {
        return Permission.newBuilder().setAndRules(Permission.Set.newBuilder().addAllRules(List.of(rules))).build();
    }

    static Principal principal(String spiffeId) {
        return Principal.newBuilder().setAuthenticated(Principal.Authenticated.newBuilder()
                .setPrincipalName(StringMatcher.newBuilder().setExact(spiffeId))).build();
    }

    static Principal principalPrefix(String prefix) {
        return Principal.newBuilder().setAuthenticated(Principal.Authenticated.newBuilder()
                .setPrincipalName(StringMatcher.newBuilder().setPrefix(prefix))).build();
    }

    static Listener serverListener(int port, String instance, RBAC deny, RBAC allow) {
        var routes = RouteConfiguration.newBuilder().setName("inbound|" + port)
                .addVirtualHosts(VirtualHost.newBuilder().setName("inbound").addDomains("*")
                        .addRoutes(Route.newBuilder().setMatch(RouteMatch.newBuilder().setPrefix("/"))
                                .setNonForwardingAction(NonForwardingAction.getDefaultInstance())));
        var hcm = HttpConnectionManager.newBuilder().setStatPrefix("inbound_" + port)
                .setRouteConfig(routes)
                .addHttpFilters(filter("septa.deny", io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.newBuilder().setRules(deny).build()))
                .addHttpFilters(filter("septa.allow", io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.newBuilder().setRules(allow).build()))
                .addHttpFilters(filter("envoy.filters.http.router", Router.getDefaultInstance()));
        var downstream = DownstreamTlsContext.newBuilder().setCommonTlsContext(tls(instance, List.of()))
                .setRequireClientCertificate(com.google.protobuf.BoolValue.of(true));
        return Listener.newBuilder()
                .setName("grpc/server?xds.resource.listening_address=0.0.0.0:" + port)
                .setAddress(Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress("0.0.0.0").setPortValue(port)))
                .addFilterChains(FilterChain.newBuilder().setName("inbound|" + port)
                        .addFilters(Filter.newBuilder().setName("envoy.filters.network.http_connection_manager").setTypedConfig(Any.pack(hcm.build())))
                        .setTransportSocket(TransportSocket.newBuilder().setName("envoy.transport_sockets.tls")
                                .setTypedConfig(Any.pack(downstream.build()))))
                .build();
    }

    static RBAC rules(RBAC.Action action, String policyName, Policy policy) {
        var rbac = RBAC.newBuilder().setAction(action);
        if (policy != null) {
            rbac.putPolicies(policyName, policy);
        }
        return rbac.build();
    }

    static Listener clientListener(String target) {
        var hcm = HttpConnectionManager.newBuilder().setStatPrefix("outbound")
                .setRds(Rds.newBuilder().setConfigSource(ads()).setRouteConfigName(target))
                .addHttpFilters(filter("envoy.filters.http.router", Router.getDefaultInstance()));
        return Listener.newBuilder().setName(target)
                .setApiListener(ApiListener.newBuilder().setApiListener(Any.pack(hcm.build()))).build();
    }

    static RouteConfiguration clientRoute(String target, String cluster) {
        return RouteConfiguration.newBuilder().setName(target)
                .addVirtualHosts(VirtualHost.newBuilder().setName(target).addDomains("*")
                        .addRoutes(Route.newBuilder().setMatch(RouteMatch.newBuilder().setPrefix("/"))
                                .setRoute(RouteAction.newBuilder().setCluster(cluster))))
                .build();
    }

    static Cluster cluster(String name, String instance, List<String> serverSans) {
        var upstream = UpstreamTlsContext.newBuilder().setCommonTlsContext(tls(instance, serverSans)).build();
        return Cluster.newBuilder().setName(name).setType(Cluster.DiscoveryType.EDS)
                .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setEdsConfig(ads()))
                .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(5))
                .setTransportSocket(TransportSocket.newBuilder().setName("envoy.transport_sockets.tls").setTypedConfig(Any.pack(upstream)))
                .build();
    }

    static ClusterLoadAssignment endpoints(String cluster, String address, int port) {
        return ClusterLoadAssignment.newBuilder().setClusterName(cluster)
                .addEndpoints(LocalityLbEndpoints.newBuilder()
                        .setLocality(io.envoyproxy.envoy.config.core.v3.Locality.newBuilder().setZone("local"))
                        .setLoadBalancingWeight(com.google.protobuf.UInt32Value.of(1))
                        .addLbEndpoints(LbEndpoint.newBuilder().setEndpoint(Endpoint.newBuilder()
                        .setAddress(Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress(address).setPortValue(port))))))
                .build();
    }
}
