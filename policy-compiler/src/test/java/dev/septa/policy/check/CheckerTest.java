package dev.septa.policy.check;

import static dev.septa.policy.rbac.RbacEvaluatorTest.anyPermission;
import static dev.septa.policy.rbac.RbacEvaluatorTest.anyPrincipal;
import static dev.septa.policy.rbac.RbacEvaluatorTest.exact;
import static dev.septa.policy.rbac.RbacEvaluatorTest.method;
import static dev.septa.policy.rbac.RbacEvaluatorTest.policy;
import static dev.septa.policy.rbac.RbacEvaluatorTest.prefix;
import static dev.septa.policy.rbac.RbacEvaluatorTest.rbac;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.CompiledProxy;
import dev.septa.policy.emit.ProxyResources;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.MeshConfig;
import dev.septa.policy.model.ObjectMeta;
import dev.septa.policy.model.Workload;
import dev.septa.policy.rbac.UnsupportedRbacException;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The Checker on a hand-built inbound listener laid out as decision record 0001 says. */
class CheckerTest {
    static final String CHECKOUT = "spiffe://cluster.local/ns/shop/sa/checkout";
    static final String STOREFRONT = "spiffe://cluster.local/ns/shop/sa/storefront";

    static Workload workload(String ns, String name, String sa) {
        return new Workload(new ObjectMeta(name, ns, Map.of()), sa, "127.0.0.1", List.of(), null);
    }

    static FilterChain httpChain(int port, RBAC deny, RBAC denyShadow, RBAC allow) {
        var hcm = HttpConnectionManager.newBuilder().setStatPrefix("inbound_" + port)
                .addHttpFilters(HttpFilter.newBuilder().setName("septa.deny").setTypedConfig(Any.pack(
                        io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.newBuilder()
                                .setRules(deny).setShadowRules(denyShadow).build())))
                .addHttpFilters(HttpFilter.newBuilder().setName("septa.allow").setTypedConfig(Any.pack(
                        io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.newBuilder().setRules(allow).build())))
                .addHttpFilters(HttpFilter.newBuilder().setName("envoy.filters.http.router"))
                .build();
        return FilterChain.newBuilder().setName("inbound|" + port)
                .setFilterChainMatch(FilterChainMatch.newBuilder().setDestinationPort(UInt32Value.of(port))
                        .setTransportProtocol("tls"))
                .addFilters(Filter.newBuilder().setName("envoy.filters.network.http_connection_manager")
                        .setTypedConfig(Any.pack(hcm)))
                .build();
    }

    static FilterChain tcpChain(RBAC deny, RBAC allow) {
        return FilterChain.newBuilder()
                .addFilters(networkRbac("septa.deny", deny))
                .addFilters(networkRbac("septa.allow", allow))
                .build();
    }

    static Filter networkRbac(String name, RBAC rules) {
        return Filter.newBuilder().setName(name).setTypedConfig(Any.pack(
                io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.newBuilder().setStatPrefix(name)
                        .setRules(rules).build())).build();
    }

    static CompiledMesh mesh(Listener inbound) {
        Mesh mesh = new Mesh(MeshConfig.DEFAULT, List.of(), List.of(),
                List.of(workload("shop", "checkout-1", "checkout"), workload("shop", "storefront-1", "storefront"),
                        workload("shop", "payments-1", "payments")),
                List.of());
        var proxies = new TreeMap<String, CompiledProxy>();
        var empty = new ProxyResources(List.of(), List.of(), List.of(), List.of());
        proxies.put("shop/payments-1", new CompiledProxy("shop/payments-1",
                new ProxyResources(List.of(inbound), List.of(), List.of(), List.of()), empty));
        return new CompiledMesh(mesh, proxies, List.of());
    }

    static final RBAC NO_DENY = RBAC.newBuilder().setAction(RBAC.Action.DENY).build();

    Checker payments() {
        RBAC deny = rbac(RBAC.Action.DENY, "shop/storefront-never-pays", policy(anyPermission(), exact(STOREFRONT)));
        RBAC shadow = rbac(RBAC.Action.DENY, "shop/lock-posts", policy(method("POST"), prefix("spiffe://cluster.local/ns/shop/")));
        RBAC allow = rbac(RBAC.Action.ALLOW,
                "shop/checkout-may-charge", policy(method("POST"), exact(CHECKOUT)),
                "shop/anyone-may-get", policy(method("GET"), anyPrincipal()));
        Listener inbound = Listener.newBuilder().setName("inbound")
                .addFilterChains(httpChain(8443, deny, shadow, allow))
                .setDefaultFilterChain(tcpChain(NO_DENY, RBAC.newBuilder().setAction(RBAC.Action.ALLOW).build()))
                .build();
        return new Checker(mesh(inbound));
    }

    @Test
    void denyRunsBeforeAllow() {
        assertThat(payments().check(new Query("shop/storefront-1", "shop/payments-1", 8443, "GET", "/x")))
                .isEqualTo(new Decision(Decision.Verdict.DENY, "shop/storefront-never-pays", Optional.empty()));
    }

    @Test
    void allowNamesTheSmallestMatchingPolicyAndShadowIsReported() {
        Decision d = payments().check(new Query("shop/checkout-1", "shop/payments-1", 8443, "POST", "/x"));
        assertThat(d).isEqualTo(new Decision(Decision.Verdict.ALLOW, "shop/checkout-may-charge",
                Optional.of("shop/lock-posts")));
        assertThat(d.toString()).isEqualTo("ALLOW shop/checkout-may-charge (would be denied by shop/lock-posts (DryRun))");
        assertThat(payments().check(new Query("shop/checkout-1", "shop/payments-1", 8443, "GET", "/x")).by())
                .isEqualTo("shop/anyone-may-get");
    }

    @Test
    void unmatchedAllowIsDefaultDenyAndUnknownMethodMatchesNoMethodRule() {
        assertThat(payments().check(new Query("shop/checkout-1", "shop/payments-1", 8443, null, null)))
                .isEqualTo(new Decision(Decision.Verdict.DENY, "default", Optional.empty()));
    }

    @Test
    void otherPortsFallToTheDefaultChain() {
        assertThat(payments().check(Query.of("shop/checkout-1", "shop/payments-1", 9999)))
                .isEqualTo(new Decision(Decision.Verdict.DENY, "default", Optional.empty()));
    }

    @Test
    void defaultAllowPolicyIsNamedDefault() {
        RBAC open = rbac(RBAC.Action.ALLOW, "default", policy(anyPermission(), anyPrincipal()));
        Listener inbound = Listener.newBuilder().setName("inbound").setDefaultFilterChain(tcpChain(NO_DENY, open)).build();
        assertThat(new Checker(mesh(inbound)).check(Query.of("shop/checkout-1", "shop/payments-1", 1234)))
                .isEqualTo(new Decision(Decision.Verdict.ALLOW, "default", Optional.empty()));
    }

    @Test
    void noChainAndNoDefaultMeansRefused() {
        Listener inbound = Listener.newBuilder().setName("inbound").build();
        assertThat(new Checker(mesh(inbound)).check(Query.of("shop/checkout-1", "shop/payments-1", 1234)).allowed())
                .isFalse();
    }

    @Test
    void unknownWorkloadsAreBadInputWithAHint() {
        assertThatThrownBy(() -> payments().check(Query.of("shop/nope", "shop/payments-1", 8443)))
                .isInstanceOf(UnknownWorkloadException.class)
                .hasMessage("unknown from workload 'shop/nope' (workloads in shop: shop/checkout-1, shop/payments-1, "
                        + "shop/storefront-1)");
        assertThatThrownBy(() -> payments().check(Query.of("shop/checkout-1", "payments-1", 8443)))
                .hasMessageContaining("NAMESPACE/NAME");
    }

    /** payments-1's inbound with the HTTP chain's routes by RDS ({@code inbound|8443}) and these routes given. */
    static Checker withRoutes(io.envoyproxy.envoy.config.route.v3.RouteConfiguration... routes) {
        var hcm = HttpConnectionManager.newBuilder().setStatPrefix("inbound_8443")
                .setRds(io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds.newBuilder()
                        .setRouteConfigName("inbound|8443"))
                .addAllHttpFilters(dev.septa.policy.emit.RbacConfigurer.listenerHttpFilters(true))
                .addHttpFilters(HttpFilter.newBuilder().setName("envoy.filters.http.router"))
                .build();
        Listener inbound = Listener.newBuilder().setName("inbound").addFilterChains(FilterChain.newBuilder()
                .setFilterChainMatch(FilterChainMatch.newBuilder().setDestinationPort(UInt32Value.of(8443)))
                .addFilters(Filter.newBuilder().setName("envoy.filters.network.http_connection_manager")
                        .setTypedConfig(Any.pack(hcm)))).build();
        CompiledMesh base = mesh(inbound);
        var proxies = new TreeMap<>(base.proxies());
        var p = proxies.get("shop/payments-1");
        proxies.put("shop/payments-1", new CompiledProxy(p.workloadId(), new ProxyResources(p.envoy().listeners(),
                List.of(routes), List.of(), List.of()), p.grpc()));
        return new Checker(new CompiledMesh(base.mesh(), proxies, List.of()));
    }

    static Any perRoute(RBAC rules) {
        return Any.pack(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBACPerRoute.newBuilder()
                .setRbac(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.newBuilder().setRules(rules)).build());
    }

    static io.envoyproxy.envoy.config.route.v3.Route.Builder route(String prefix) {
        return io.envoyproxy.envoy.config.route.v3.Route.newBuilder()
                .setMatch(io.envoyproxy.envoy.config.route.v3.RouteMatch.newBuilder().setPrefix(prefix));
    }

    static io.envoyproxy.envoy.config.route.v3.RouteConfiguration routes(io.envoyproxy.envoy.config.route.v3.Route.Builder... routes) {
        var host = io.envoyproxy.envoy.config.route.v3.VirtualHost.newBuilder().setName("vh").addDomains("*");
        for (var r : routes) {
            host.addRoutes(r);
        }
        return io.envoyproxy.envoy.config.route.v3.RouteConfiguration.newBuilder().setName("inbound|8443").addVirtualHosts(host).build();
    }

    @Test
    void perRouteOverridesReplaceTheConstantFiltersFailClosedRules() {
        RBAC allow = rbac(RBAC.Action.ALLOW, "shop/checkout-may-charge", policy(anyPermission(), exact(CHECKOUT)));
        RBAC deny = rbac(RBAC.Action.DENY, "shop/storefront-never-pays", policy(anyPermission(), exact(STOREFRONT)));
        // The routes decision 0009 emits: the listener's septa.allow denies everything, the route's override decides.
        Checker checker = withRoutes(routes(route("/").putTypedPerFilterConfig("septa.allow", perRoute(allow))
                .putTypedPerFilterConfig("septa.deny", perRoute(deny))));
        assertThat(checker.check(Query.of("shop/checkout-1", "shop/payments-1", 8443)))
                .isEqualTo(new Decision(Decision.Verdict.ALLOW, "shop/checkout-may-charge", Optional.empty()));
        assertThat(checker.check(Query.of("shop/storefront-1", "shop/payments-1", 8443)))
                .isEqualTo(new Decision(Decision.Verdict.DENY, "shop/storefront-never-pays", Optional.empty()));
        // Without an override the listener-level rules hold: septa.allow with no policy admits nobody.
        assertThat(withRoutes(routes(route("/"))).check(Query.of("shop/checkout-1", "shop/payments-1", 8443)))
                .isEqualTo(new Decision(Decision.Verdict.DENY, "default", Optional.empty()));
        // A quarantine override on the virtual host, the route's own overrides for the other filters.
        var rc = routes(route("/").putTypedPerFilterConfig("septa.allow", perRoute(allow))).toBuilder();
        rc.getVirtualHostsBuilder(0).putTypedPerFilterConfig("septa.quarantine",
                perRoute(rbac(RBAC.Action.DENY, "quarantine:x", policy(anyPermission(), exact(CHECKOUT)))));
        assertThat(withRoutes(rc.build()).check(Query.of("shop/checkout-1", "shop/payments-1", 8443)))
                .isEqualTo(new Decision(Decision.Verdict.DENY, "quarantine:x", Optional.empty()));
    }

    @Test
    void routesNotGivenOrOverridesThatDependOnTheRouteFailLoudly() {
        assertThatThrownBy(() -> withRoutes().check(Query.of("shop/checkout-1", "shop/payments-1", 8443)))
                .isInstanceOf(UnsupportedRbacException.class).hasMessageContaining("inbound|8443");
        RBAC open = rbac(RBAC.Action.ALLOW, "open", policy(anyPermission(), anyPrincipal()));
        Checker byPath = withRoutes(routes(route("/admin").putTypedPerFilterConfig("septa.allow", perRoute(open)), route("/")));
        assertThatThrownBy(() -> byPath.check(Query.of("shop/checkout-1", "shop/payments-1", 8443)))
                .isInstanceOf(UnsupportedRbacException.class).hasMessageContaining("RBACPerRoute");
    }

    @Test
    void unsupportedChainMatchFailsLoudly() {
        Listener inbound = Listener.newBuilder().setName("inbound").addFilterChains(FilterChain.newBuilder()
                .setFilterChainMatch(FilterChainMatch.newBuilder().addServerNames("x"))).build();
        assertThatThrownBy(() -> new Checker(mesh(inbound)).check(Query.of("shop/checkout-1", "shop/payments-1", 1)))
                .isInstanceOf(UnsupportedRbacException.class).hasMessageContaining("SNI");
    }
}
