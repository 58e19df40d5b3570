package dev.septa.policy.rbac;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.core.v3.CidrRange;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.type.matcher.v3.PathMatcher;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.v3.Int32Range;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The evaluator on hand-built protos, one Envoy rule at a time. */
public class RbacEvaluatorTest {
    static final String CHECKOUT = "spiffe://cluster.local/ns/shop/sa/checkout";
    static final String STOREFRONT = "spiffe://cluster.local/ns/shop/sa/storefront";
    static final String PROM = "spiffe://cluster.local/ns/monitoring/sa/prometheus";

    public static Principal exact(String id) {
        return Principal.newBuilder().setAuthenticated(Principal.Authenticated.newBuilder()
                .setPrincipalName(StringMatcher.newBuilder().setExact(id))).build();
    }

    public static Principal prefix(String p) {
        return Principal.newBuilder().setAuthenticated(Principal.Authenticated.newBuilder()
                .setPrincipalName(StringMatcher.newBuilder().setPrefix(p))).build();
    }

    public static Principal anyPrincipal() {
        return Principal.newBuilder().setAny(true).build();
    }

    public static Permission anyPermission() {
        return Permission.newBuilder().setAny(true).build();
    }

    public static Permission method(String m) {
        return Permission.newBuilder().setHeader(HeaderMatcher.newBuilder().setName(":method")
                .setStringMatch(StringMatcher.newBuilder().setExact(m))).build();
    }

    public static Permission path(StringMatcher m) {
        return Permission.newBuilder().setUrlPath(PathMatcher.newBuilder().setPath(m)).build();
    }

    public static Permission or(Permission... ps) {
        return Permission.newBuilder().setOrRules(Permission.Set.newBuilder().addAllRules(List.of(ps))).build();
    }

    public static Permission and(Permission... ps) {
        return Permission.newBuilder().setAndRules(Permission.Set.newBuilder().addAllRules(List.of(ps))).build();
    }

    public static Policy policy(Permission perm, Principal... ids) {
        return Policy.newBuilder().addPermissions(perm).addAllPrincipals(List.of(ids)).build();
    }

    public static RBAC rbac(RBAC.Action action, Object... namesAndPolicies) {
        var b = RBAC.newBuilder().setAction(action);
        for (int i = 0; i < namesAndPolicies.length; i += 2) {
            b.putPolicies((String) namesAndPolicies[i], (Policy) namesAndPolicies[i + 1]);
        }
        return b.build();
    }

    static RbacRequest req(String principal, String method, String path) {
        return RbacRequest.http(principal, 8443, method, path);
    }

    @Test
    void allowMatchesOnlyListedPrincipals() {
        RBAC allow = rbac(RBAC.Action.ALLOW, "shop/checkout-may-charge", policy(anyPermission(), exact(CHECKOUT)));
        assertThat(RbacEvaluator.evaluate(allow, req(CHECKOUT, "POST", "/x")))
                .isEqualTo(new EngineResult(RBAC.Action.ALLOW, Optional.of("shop/checkout-may-charge")));
        EngineResult other = RbacEvaluator.evaluate(allow, req(STOREFRONT, "POST", "/x"));
        assertThat(other.allowed()).isFalse();
        assertThat(other.matchedPolicy()).isEmpty();
        // A plaintext peer has no principal and matches no authenticated principal.
        assertThat(RbacEvaluator.evaluate(allow, req(null, "POST", "/x")).allowed()).isFalse();
    }

    @Test
    void allowWithNoPoliciesDeniesEverything() {
        RBAC empty = RBAC.newBuilder().setAction(RBAC.Action.ALLOW).build();
        assertThat(RbacEvaluator.evaluate(empty, req(CHECKOUT, "GET", "/")).allowed()).isFalse();
        RBAC denyNothing = RBAC.newBuilder().setAction(RBAC.Action.DENY).build();
        assertThat(RbacEvaluator.evaluate(denyNothing, req(CHECKOUT, "GET", "/")).allowed()).isTrue();
    }

    @Test
    void namespacePrefixPrincipal() {
        RBAC allow = rbac(RBAC.Action.ALLOW, "shop/monitoring-may-probe",
                policy(anyPermission(), prefix("spiffe://cluster.local/ns/monitoring/sa/")));
        assertThat(RbacEvaluator.evaluate(allow, req(PROM, "GET", "/")).allowed()).isTrue();
        assertThat(RbacEvaluator.evaluate(allow, req(CHECKOUT, "GET", "/")).allowed()).isFalse();
    }

    @Test
    void smallestMatchingPolicyNameIsReportedWhateverTheInsertionOrder() {
        RBAC deny = rbac(RBAC.Action.DENY,
                "shop/z-last", policy(anyPermission(), anyPrincipal()),
                "shop/a-first", policy(anyPermission(), exact(CHECKOUT)),
                "shop/m-middle", policy(anyPermission(), anyPrincipal()));
        assertThat(RbacEvaluator.evaluate(deny, req(CHECKOUT, "GET", "/")).matchedPolicy()).contains("shop/a-first");
        assertThat(RbacEvaluator.evaluate(deny, req(STOREFRONT, "GET", "/")).matchedPolicy()).contains("shop/m-middle");
    }

    @Test
    void prefixAndExactPaths() {
        Permission paths = or(
                path(StringMatcher.newBuilder().setExact("/shop.Payments/Charge").build()),
                path(StringMatcher.newBuilder().setPrefix("/v1/refunds/").build()));
        RBAC allow = rbac(RBAC.Action.ALLOW, "shop/p", policy(paths, anyPrincipal()));
        assertThat(allowed(allow, "POST", "/shop.Payments/Charge")).isTrue();
        assertThat(allowed(allow, "POST", "/shop.Payments/ChargeX")).isFalse();
        assertThat(allowed(allow, "POST", "/v1/refunds/42")).isTrue();
        assertThat(allowed(allow, "POST", "/v1/refunds")).isFalse();
        // url_path ignores the query string and the fragment (Envoy's removeQueryAndFragment).
        assertThat(allowed(allow, "POST", "/shop.Payments/Charge?x=1")).isTrue();
        assertThat(allowed(allow, "POST", "/shop.Payments/Charge#top")).isTrue();
        assertThat(allowed(allow, "POST", "/shop.Payments/Charge#x?y")).isTrue();
        assertThat(allowed(allow, "POST", "/shop.Payments/ChargeX#top")).isFalse();
        // A request without a path matches no path rule.
        assertThat(allowed(allow, "POST", null)).isFalse();
    }

    @Test
    void methodOrRulesAndedWithPath() {
        Permission perm = and(or(method("GET"), method("POST")),
                path(StringMatcher.newBuilder().setPrefix("/api/").build()));
        RBAC allow = rbac(RBAC.Action.ALLOW, "shop/m", policy(perm, anyPrincipal()));
        assertThat(allowed(allow, "GET", "/api/x")).isTrue();
        assertThat(allowed(allow, "POST", "/api/x")).isTrue();
        assertThat(allowed(allow, "DELETE", "/api/x")).isFalse();
        assertThat(allowed(allow, "GET", "/other")).isFalse();
        assertThat(allowed(allow, null, "/api/x")).isFalse();
    }

    @Test
    void headerMatcherVariants() {
        assertThat(header(HeaderMatcher.newBuilder().setName(":method").setExactMatch("GET"), "GET")).isTrue();
        assertThat(header(HeaderMatcher.newBuilder().setName(":method").setPrefixMatch("PO"), "POST")).isTrue();
        assertThat(header(HeaderMatcher.newBuilder().setName(":method").setSuffixMatch("ST"), "POST")).isTrue();
        assertThat(header(HeaderMatcher.newBuilder().setName(":method").setContainsMatch("OS"), "POST")).isTrue();
        assertThat(header(HeaderMatcher.newBuilder().setName(":method").setSafeRegexMatch(
                RegexMatcher.newBuilder().setRegex("P(OST|UT)")), "PUT")).isTrue();
        assertThat(header(HeaderMatcher.newBuilder().setName(":method").setSafeRegexMatch(
                RegexMatcher.newBuilder().setRegex("P(OST|UT)")), "PATCH")).isFalse();
        assertThat(header(HeaderMatcher.newBuilder().setName(":method").setExactMatch("GET").setInvertMatch(true),
                "POST")).isTrue();
        // A missing header fails a value matcher even when inverted (Envoy's HeaderUtility).
        assertThat(header(HeaderMatcher.newBuilder().setName(":method").setExactMatch("GET").setInvertMatch(true),
                null)).isFalse();
        assertThat(header(HeaderMatcher.newBuilder().setName(":method").setPresentMatch(true), null)).isFalse();
        assertThat(header(HeaderMatcher.newBuilder().setName(":method").setPresentMatch(false), null)).isTrue();
        assertThat(header(HeaderMatcher.newBuilder().setName(":method").setStringMatch(
                StringMatcher.newBuilder().setExact("get").setIgnoreCase(true)), "GET")).isTrue();
    }

    @Test
    void principalCombinators() {
        Principal notCheckout = Principal.newBuilder().setNotId(exact(CHECKOUT)).build();
        Principal shopButNotCheckout = Principal.newBuilder().setAndIds(Principal.Set.newBuilder()
                .addIds(prefix("spiffe://cluster.local/ns/shop/")).addIds(notCheckout)).build();
        RBAC allow = rbac(RBAC.Action.ALLOW, "p", policy(anyPermission(), shopButNotCheckout));
        assertThat(RbacEvaluator.evaluate(allow, req(STOREFRONT, "GET", "/")).allowed()).isTrue();
        assertThat(RbacEvaluator.evaluate(allow, req(CHECKOUT, "GET", "/")).allowed()).isFalse();
        assertThat(RbacEvaluator.evaluate(allow, req(PROM, "GET", "/")).allowed()).isFalse();

        Principal either = Principal.newBuilder().setOrIds(Principal.Set.newBuilder()
                .addIds(exact(CHECKOUT)).addIds(Principal.newBuilder().setAuthenticated(
                        Principal.Authenticated.newBuilder().setPrincipalName(
                                StringMatcher.newBuilder().setSuffix("/sa/prometheus"))))).build();
        RBAC allow2 = rbac(RBAC.Action.ALLOW, "p", policy(anyPermission(), either));
        assertThat(RbacEvaluator.evaluate(allow2, req(PROM, "GET", "/")).allowed()).isTrue();
        assertThat(RbacEvaluator.evaluate(allow2, req(STOREFRONT, "GET", "/")).allowed()).isFalse();
    }

    @Test
    void notRuleAndPorts() {
        Permission notHealth = Permission.newBuilder().setNotRule(
                path(StringMatcher.newBuilder().setPrefix("/grpc.health").build())).build();
        RBAC deny = rbac(RBAC.Action.DENY, "shop/no-writes", policy(notHealth, anyPrincipal()));
        assertThat(RbacEvaluator.evaluate(deny, req(CHECKOUT, "GET", "/grpc.health.v1.Health/Check")).allowed())
                .isTrue();
        assertThat(RbacEvaluator.evaluate(deny, req(CHECKOUT, "GET", "/shop.Catalog/Update")).allowed()).isFalse();

        RBAC port = rbac(RBAC.Action.ALLOW, "port", policy(or(
                Permission.newBuilder().setDestinationPort(8443).build(),
                Permission.newBuilder().setDestinationPortRange(Int32Range.newBuilder().setStart(9000).setEnd(9100))
                        .build()), anyPrincipal()));
        assertThat(RbacEvaluator.evaluate(port, RbacRequest.connection(CHECKOUT, 8443)).allowed()).isTrue();
        assertThat(RbacEvaluator.evaluate(port, RbacRequest.connection(CHECKOUT, 9099)).allowed()).isTrue();
        assertThat(RbacEvaluator.evaluate(port, RbacRequest.connection(CHECKOUT, 9100)).allowed()).isFalse();
        assertThat(RbacEvaluator.evaluate(port, RbacRequest.connection(CHECKOUT, 8080)).allowed()).isFalse();
    }

    @Test
    void httpFilterRulesAndShadowRulesAreSeparate() {
        var filter = io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.newBuilder()
                .setRules(rbac(RBAC.Action.DENY, "shop/never", policy(anyPermission(), exact(STOREFRONT))))
                .setShadowRules(rbac(RBAC.Action.DENY, "shop/dry", policy(anyPermission(), exact(CHECKOUT))))
                .build();
        FilterResult checkout = RbacEvaluator.evaluate(filter, "septa.deny", req(CHECKOUT, "GET", "/"));
        assertThat(checkout.allowed()).isTrue();
        assertThat(checkout.shadow().flatMap(EngineResult::matchedPolicy)).contains("shop/dry");
        FilterResult storefront = RbacEvaluator.evaluate(filter, "septa.deny", req(STOREFRONT, "GET", "/"));
        assertThat(storefront.allowed()).isFalse();
        assertThat(storefront.enforced().flatMap(EngineResult::matchedPolicy)).contains("shop/never");
        assertThat(storefront.shadow().flatMap(EngineResult::matchedPolicy)).isEmpty();
    }

    @Test
    void filterWithoutRulesEnforcesNothing() {
        var filter = io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.newBuilder()
                .setShadowRules(rbac(RBAC.Action.ALLOW, "x", policy(anyPermission(), exact(CHECKOUT)))).build();
        FilterResult r = RbacEvaluator.evaluate(filter, "f", req(STOREFRONT, "GET", "/"));
        assertThat(r.allowed()).isTrue();
        assertThat(r.enforced()).isEmpty();
        assertThat(r.shadow().map(EngineResult::allowed)).contains(false);
    }

    @Test
    void networkFilterSeesNoHeaders() {
        var filter = io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.newBuilder().setStatPrefix("x")
                .setRules(rbac(RBAC.Action.ALLOW, "m", policy(method("GET"), anyPrincipal()))).build();
        Any any = Any.pack(filter);
        RbacFilter compiled = RbacEvaluator.compile(any, "septa.allow").orElseThrow();
        assertThat(compiled.network()).isTrue();
        assertThat(compiled.evaluate(req(CHECKOUT, "GET", "/")).allowed()).isFalse();
        assertThat(RbacEvaluator.compile(Any.pack(RBAC.getDefaultInstance()), "not-a-filter")).isEmpty();
    }

    @Test
    void unsupportedMatchersFailLoudlyNamingWhere() {
        RBAC ip = rbac(RBAC.Action.ALLOW, "shop/by-ip", policy(anyPermission(),
                Principal.newBuilder().setRemoteIp(CidrRange.newBuilder().setAddressPrefix("10.0.0.0")
                        .setPrefixLen(com.google.protobuf.UInt32Value.of(8)))
                        .build()));
        assertThatThrownBy(() -> RbacEvaluator.evaluate(ip, req(CHECKOUT, "GET", "/")))
                .isInstanceOf(UnsupportedRbacException.class)
                .hasMessageContaining("rbac.policies[shop/by-ip].principals")
                .hasMessageContaining("remote_ip");
        RBAC sni = rbac(RBAC.Action.DENY, "p", policy(Permission.newBuilder().setRequestedServerName(
                StringMatcher.newBuilder().setExact("x")).build(), anyPrincipal()));
        assertThatThrownBy(() -> RbacEvaluator.evaluate(sni, req(CHECKOUT, "GET", "/")))
                .isInstanceOf(UnsupportedRbacException.class).hasMessageContaining("requested_server_name");
        RBAC unset = rbac(RBAC.Action.DENY, "p", policy(Permission.getDefaultInstance(), anyPrincipal()));
        assertThatThrownBy(() -> RbacEvaluator.evaluate(unset, req(CHECKOUT, "GET", "/")))
                .isInstanceOf(UnsupportedRbacException.class).hasMessageContaining("no rule set");
        RBAC log = RBAC.newBuilder().setAction(RBAC.Action.LOG).build();
        assertThatThrownBy(() -> RbacEvaluator.evaluate(log, req(CHECKOUT, "GET", "/")))
                .isInstanceOf(UnsupportedRbacException.class).hasMessageContaining("LOG");
        RBAC cel = RBAC.newBuilder().setAction(RBAC.Action.ALLOW).putPolicies("c", policy(anyPermission(),
                anyPrincipal()).toBuilder().setCondition(com.google.api.expr.v1alpha1.Expr.getDefaultInstance())
                .build()).build();
        assertThatThrownBy(() -> RbacEvaluator.evaluate(cel, req(CHECKOUT, "GET", "/")))
                .isInstanceOf(UnsupportedRbacException.class).hasMessageContaining("CEL");
    }

    private static boolean allowed(RBAC rbac, String method, String path) {
        return RbacEvaluator.evaluate(rbac, req(CHECKOUT, method, path)).allowed();
    }

    private static boolean header(HeaderMatcher.Builder h, String method) {
        RBAC allow = rbac(RBAC.Action.ALLOW, "h", policy(Permission.newBuilder().setHeader(h).build(), anyPrincipal()));
        return RbacEvaluator.evaluate(allow, req(CHECKOUT, method, "/")).allowed();
    }
}
