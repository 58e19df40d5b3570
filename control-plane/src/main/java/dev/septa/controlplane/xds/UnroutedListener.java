package dev.septa.controlplane.xds;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.ApiListener;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.type.v3.FractionalPercent;

/**
 * The answer to a proxyless gRPC client asking for a client listener its configuration lacks (egress scoping left
 * the service out: no intent lets this workload reach it). Leaving the name out of the response is "does not exist"
 * by the protocol, but grpc-java (1.85) ignores absence while its 15 s resource timer runs
 * ({@code XdsClientImpl.ResourceSubscriber.onAbsent}: "too early to conclude absence"), so the first calls to such a
 * service would hang 15 s. Instead the name gets a listener whose only route aborts every call at once with
 * PERMISSION_DENIED (the fault filter, which grpc-java applies before picking a connection), routed to an empty
 * cluster that nothing can reach (grpc-java resolves a route's cluster before it serves any call; a route without
 * one, a non-forwarding action, leaves its cluster_manager with no child and fails calls INTERNAL).
 * When an intent later allows the service, the compiled listener of that name replaces this one.
 */
final class UnroutedListener {
    /** The cluster (and EDS name) the unrouted listeners point at; it has no endpoints. */
    static final String CLUSTER = "septa-unrouted";
    static final String DETAIL = "septa: no intent allows this workload to reach ";
    private static final String SERVER_LISTENER_PREFIX = "grpc/server?";
    private static final Any ROUTER = Any.pack(Router.getDefaultInstance());
    private static final Any DENY_ALL = Any.pack(HTTPFault.newBuilder().setAbort(FaultAbort.newBuilder()
            .setGrpcStatus(7) // PERMISSION_DENIED
            .setPercentage(FractionalPercent.newBuilder().setNumerator(100)
                    .setDenominator(FractionalPercent.DenominatorType.HUNDRED))).build());
    private static final Cluster EMPTY_CLUSTER = Cluster.newBuilder().setName(CLUSTER)
            .setType(Cluster.DiscoveryType.EDS)
            .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setServiceName(CLUSTER)
                    .setEdsConfig(ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance())))
            .build();
    private static final ClusterLoadAssignment NO_ENDPOINTS = ClusterLoadAssignment.newBuilder().setClusterName(CLUSTER).build();

    private UnroutedListener() {
    }

    /** Client listener names only: a server listener that does not exist must stay absent (the server then waits). */
    static boolean appliesTo(String listenerName) {
        return !listenerName.isEmpty() && !listenerName.startsWith(SERVER_LISTENER_PREFIX);
    }

    static Listener of(String listenerName) {
        RouteConfiguration routes = RouteConfiguration.newBuilder().setName(CLUSTER)
                .addVirtualHosts(VirtualHost.newBuilder().setName(CLUSTER).addDomains("*")
                        .addRoutes(Route.newBuilder().setName("not-allowed-by-any-intent")
                                .setMatch(RouteMatch.newBuilder().setPrefix(""))
                                .setRoute(RouteAction.newBuilder().setCluster(CLUSTER))))
                .build();
        HttpConnectionManager hcm = HttpConnectionManager.newBuilder().setStatPrefix(CLUSTER)
                .setRouteConfig(routes)
                .addHttpFilters(HttpFilter.newBuilder().setName("envoy.filters.http.fault").setTypedConfig(DENY_ALL))
                .addHttpFilters(HttpFilter.newBuilder().setName("envoy.filters.http.router").setTypedConfig(ROUTER))
                .build();
        return Listener.newBuilder().setName(listenerName)
                .setApiListener(ApiListener.newBuilder().setApiListener(Any.pack(hcm))).build();
    }

    /** The resource of {@code name} that stands in for an absent one of this type, or null. */
    static Message standIn(String typeUrl, String name) {
        return switch (typeUrl) {
            case io.envoyproxy.controlplane.cache.Resources.V3.LISTENER_TYPE_URL -> appliesTo(name) ? of(name) : null;
            case io.envoyproxy.controlplane.cache.Resources.V3.CLUSTER_TYPE_URL -> CLUSTER.equals(name) ? EMPTY_CLUSTER : null;
            case io.envoyproxy.controlplane.cache.Resources.V3.ENDPOINT_TYPE_URL -> CLUSTER.equals(name) ? NO_ENDPOINTS : null;
            default -> null;
        };
    }
}
