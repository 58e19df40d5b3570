package dev.septa.policy.check;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.septa.policy.rbac.RbacEvaluator;
import dev.septa.policy.rbac.RbacFilter;
import dev.septa.policy.rbac.UnsupportedRbacException;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The RBAC filters a connection meets on one inbound listener, per destination port, compiled once. Chain choice
 * follows Envoy's filter-chain matching for an mTLS connection: a chain naming the port beats a chain naming no
 * port; among those, a {@code tls} chain beats one with no transport protocol; chains for other transports
 * (plaintext in permissive mode) are not taken; with no match, {@code default_filter_chain}.
 */
final class InboundIndex {
    static final String HCM_TYPE =
            "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

    private final Map<Integer, InboundChain> byPort = new HashMap<>();
    private final InboundChain portless;
    private final Optional<InboundChain> defaultChain;
    /** Envoy normalizes paths as its HCM says; grpc-java's server reads none of those fields. */
    private final boolean envoy;

    /** The proxy's route configurations by name: where an HttpConnectionManager's RDS name leads. */
    private final Map<String, RouteConfiguration> routes;

    InboundIndex(Listener listener, boolean envoy, Map<String, RouteConfiguration> routes) {
        this.envoy = envoy;
        this.routes = routes;
        String where = "listener " + listener.getName();
        Map<Integer, FilterChain> exact = new HashMap<>();
        FilterChain anyPort = null;
        for (FilterChain chain : listener.getFilterChainsList()) {
            FilterChainMatch m = chain.getFilterChainMatch();
            checkMatch(m, where);
            String transport = m.getTransportProtocol();
            if (!transport.isEmpty() && !transport.equals("tls")) {
                continue;
            }
            if (m.hasDestinationPort()) {
                exact.merge(m.getDestinationPort().getValue(), chain, InboundIndex::preferTls);
            } else {
                anyPort = anyPort == null ? chain : preferTls(anyPort, chain);
            }
        }
        exact.forEach((port, chain) -> byPort.put(port, filters(chain, where + " chain " + chainName(chain, port))));
        portless = anyPort == null ? null : filters(anyPort, where + " chain " + chainName(anyPort, null));
        defaultChain = listener.hasDefaultFilterChain()
                ? Optional.of(filters(listener.getDefaultFilterChain(), where + " default_filter_chain"))
                : Optional.empty();
    }

    /** The filters for a connection to {@code port}; empty when no chain takes it (Envoy closes the connection). */
    Optional<InboundChain> filtersFor(int port) {
        InboundChain f = byPort.get(port);
        if (f != null) {
            return Optional.of(f);
        }
        return portless != null ? Optional.of(portless) : defaultChain;
    }

    private static FilterChain preferTls(FilterChain a, FilterChain b) {
        return a.getFilterChainMatch().getTransportProtocol().equals("tls") ? a : b;
    }

    private static String chainName(FilterChain chain, Integer port) {
        return chain.getName().isEmpty() ? String.valueOf(port) : chain.getName();
    }

    /** Criteria a one-line query cannot answer must not be guessed. */
    private static void checkMatch(FilterChainMatch m, String where) {
        if (m.getPrefixRangesCount() > 0 || m.getSourcePrefixRangesCount() > 0 || m.getSourcePortsCount() > 0
                || m.getServerNamesCount() > 0 || m.getDirectSourcePrefixRangesCount() > 0) {
            throw new UnsupportedRbacException(where, "filter chain match on addresses, source ports or SNI");
        }
    }

    static final String RBAC_PER_ROUTE_TYPE =
            "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute";

    /** A per-route RBAC override changes the decision by route, which a per-listener evaluation would miss. */
    static void rejectPerRouteRbac(RouteConfiguration rc, String where) {
        if (rc.getTypedPerFilterConfigMap().values().stream().anyMatch(InboundIndex::isRbacPerRoute)) {
            throw new UnsupportedRbacException(where + " route " + rc.getName(), "per-route override (RBACPerRoute)");
        }
        for (VirtualHost vh : rc.getVirtualHostsList()) {
            boolean perRoute = vh.getTypedPerFilterConfigMap().values().stream().anyMatch(InboundIndex::isRbacPerRoute)
                    || vh.getRoutesList().stream().anyMatch(r -> r.getTypedPerFilterConfigMap().values().stream()
                            .anyMatch(InboundIndex::isRbacPerRoute));
            if (perRoute) {
                throw new UnsupportedRbacException(where + " route " + rc.getName() + " virtual host " + vh.getName(),
                        "per-route override (RBACPerRoute)");
            }
        }
    }

    /**
     * The per-filter overrides every request on these routes meets (decision 0009: the inbound routes are one virtual
     * host for any authority with one route for every path), most specific last: route configuration, virtual host,
     * route, as Envoy, grpc-java and the C-core resolve them. Routes that could select different overrides for
     * different requests cannot be answered per port, so they are refused rather than guessed.
     */
    static Map<String, com.google.protobuf.Any> overridesForEveryRequest(RouteConfiguration rc, String where) {
        var out = new HashMap<String, com.google.protobuf.Any>(rc.getTypedPerFilterConfigMap());
        if (rc.getVirtualHostsCount() == 1 && rc.getVirtualHosts(0).getDomainsList().equals(List.of("*"))
                && rc.getVirtualHosts(0).getRoutesCount() == 1 && matchesEveryRequest(rc.getVirtualHosts(0).getRoutes(0))) {
            out.putAll(rc.getVirtualHosts(0).getTypedPerFilterConfigMap());
            out.putAll(rc.getVirtualHosts(0).getRoutes(0).getTypedPerFilterConfigMap());
            return out;
        }
        rejectPerRouteRbac(rc, where);
        return out;
    }

    private static boolean matchesEveryRequest(io.envoyproxy.envoy.config.route.v3.Route route) {
        var m = route.getMatch();
        return m.getPathSpecifierCase() == io.envoyproxy.envoy.config.route.v3.RouteMatch.PathSpecifierCase.PREFIX
                && m.getPrefix().equals("/") && m.getHeadersCount() == 0 && m.getQueryParametersCount() == 0
                && !m.hasRuntimeFraction() && !m.hasGrpc() && !m.hasTlsContext() && m.getDynamicMetadataCount() == 0;
    }

    private static boolean isRbacPerRoute(com.google.protobuf.Any a) {
        return a.getTypeUrl().equals(RBAC_PER_ROUTE_TYPE);
    }

    /** The connection manager's routes: inline, or the proxy's route configuration its RDS names. */
    private RouteConfiguration routeConfig(HttpConnectionManager hcm, String at) {
        if (hcm.hasRouteConfig()) {
            return hcm.getRouteConfig();
        }
        if (hcm.hasRds()) {
            RouteConfiguration rc = routes.get(hcm.getRds().getRouteConfigName());
            if (rc == null) {
                // Neither Envoy nor grpc-java serves a connection manager whose routes never came.
                throw new UnsupportedRbacException(at, "RDS route configuration '" + hcm.getRds().getRouteConfigName()
                        + "' that the proxy is not given");
            }
            return rc;
        }
        return RouteConfiguration.getDefaultInstance();
    }

    private static io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBACPerRoute perRoute(com.google.protobuf.Any a, String at) {
        try {
            return a.unpack(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBACPerRoute.class);
        } catch (InvalidProtocolBufferException e) {
            throw new UnsupportedRbacException(at, "RBACPerRoute that does not parse");
        }
    }

    /** The RBAC filters of a chain, in the order Envoy runs them: network filters, then the HCM's HTTP filters. */
    private InboundChain filters(FilterChain chain, String where) {
        var out = new ArrayList<RbacFilter>();
        EnvoyPathNormalization paths = EnvoyPathNormalization.NONE;
        for (Filter f : chain.getFiltersList()) {
            String at = where + " filter " + f.getName();
            if (!f.hasTypedConfig()) {
                if (f.getName().contains("rbac")) {
                    throw new UnsupportedRbacException(at, "filter without inline typed_config");
                }
                continue;
            }
            if (f.getTypedConfig().getTypeUrl().equals(HCM_TYPE)) {
                HttpConnectionManager hcm;
                try {
                    hcm = f.getTypedConfig().unpack(HttpConnectionManager.class);
                } catch (InvalidProtocolBufferException e) {
                    throw new UnsupportedRbacException(at, "HttpConnectionManager that does not parse");
                }
                if (envoy) {
                    paths = EnvoyPathNormalization.of(hcm);
                }
                Map<String, com.google.protobuf.Any> overrides = overridesForEveryRequest(routeConfig(hcm, at), at);
                for (HttpFilter hf : hcm.getHttpFiltersList()) {
                    String hat = where + " http filter " + hf.getName();
                    if (!hf.hasTypedConfig()) {
                        if (hf.getName().contains("rbac")) {
                            throw new UnsupportedRbacException(hat, "filter without inline typed_config");
                        }
                        continue;
                    }
                    Optional<RbacFilter> filter = RbacEvaluator.compile(hf.getTypedConfig(), hf.getName());
                    com.google.protobuf.Any override = overrides.get(hf.getName());
                    if (filter.isPresent() && override != null && isRbacPerRoute(override)) {
                        // The route's rules replace the filter's (an override without rbac turns the filter off).
                        filter = Optional.of(RbacEvaluator.compile(perRoute(override, hat).getRbac(), hf.getName()));
                    }
                    filter.ifPresent(out::add);
                }
            } else {
                RbacEvaluator.compile(f.getTypedConfig(), f.getName()).ifPresent(out::add);
            }
        }
        return new InboundChain(out, paths);
    }
}
