package dev.septa.policy.emit;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.Collection;

/** Small builders shared by both dialects' configurers. Every message here is immutable and may be shared. */
public final class ProtoBuilders {
    public static final String HCM = "envoy.filters.network.http_connection_manager";
    public static final String TLS = "envoy.transport_sockets.tls";
    public static final HttpFilter ROUTER = HttpFilter.newBuilder()
            .setName("envoy.filters.http.router").setTypedConfig(Any.pack(Router.getDefaultInstance())).build();
    /** Resources come over the same ADS stream as the listener that names them. */
    public static final ConfigSource ADS = ConfigSource.newBuilder()
            .setAds(AggregatedConfigSource.getDefaultInstance()).setResourceApiVersion(ApiVersion.V3).build();

    private ProtoBuilders() { }

    public static Address address(String ip, int port) {
        return Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port)).build();
    }

    public static Filter filter(String name, Message config) {
        return Filter.newBuilder().setName(name).setTypedConfig(Any.pack(config)).build();
    }

    public static TransportSocket tls(Message context) {
        return TransportSocket.newBuilder().setName(TLS).setTypedConfig(Any.pack(context)).build();
    }

    public static ClusterLoadAssignment loadAssignment(String cluster, Collection<String> addresses, int port) {
        // grpc-java drops localities without a load_balancing_weight (gRFC A27), and the gRPC C-core rejects the whole
        // EDS resource without a locality ("field not present"); Envoy minds neither. One empty locality suits all.
        LocalityLbEndpoints.Builder locality = LocalityLbEndpoints.newBuilder().setLoadBalancingWeight(UInt32Value.of(1))
                .setLocality(Locality.getDefaultInstance());
        for (String a : addresses) {
            locality.addLbEndpoints(LbEndpoint.newBuilder().setEndpoint(Endpoint.newBuilder().setAddress(address(a, port))));
        }
        ClusterLoadAssignment.Builder cla = ClusterLoadAssignment.newBuilder().setClusterName(cluster);
        if (!addresses.isEmpty()) {
            cla.addEndpoints(locality);
        }
        return cla.build();
    }

    /** A route configuration with one virtual host that sends everything to {@code cluster}. */
    public static VirtualHost forwardAll(String name, Collection<String> domains, String cluster) {
        return VirtualHost.newBuilder().setName(name).addAllDomains(domains)
                .addRoutes(Route.newBuilder().setMatch(RouteMatch.newBuilder().setPrefix("/"))
                        .setRoute(RouteAction.newBuilder().setCluster(cluster)))
                .build();
    }

    public static RouteConfiguration routes(String name, Collection<VirtualHost> hosts) {
        return RouteConfiguration.newBuilder().setName(name).addAllVirtualHosts(hosts).build();
    }
}
