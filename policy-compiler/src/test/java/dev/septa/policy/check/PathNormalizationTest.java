package dev.septa.policy.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.Dialect;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.PathWithEscapedSlashesAction;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Issue 11, "path rules can be bypassed on Envoy": Allow {@code /*} plus Deny {@code /admin/*}. Every spelling of
 * {@code /admin/x} an attacker might send is decided like {@code /admin/x} on Envoy, because the compiled HCM
 * normalizes and {@code septa check} applies the same normalization; grpc-java's server normalizes nothing, so in
 * the gRPC dialect the path is matched as sent (see GrpcServerRawPathTest for what the server does with it).
 */
class PathNormalizationTest {
    static final String MESH = """
            kind: Workload
            metadata: {name: web-1, namespace: shop, labels: {app: web}}
            spec: {serviceAccount: web, address: 127.0.9.1}
            ---
            kind: Workload
            metadata: {name: api-1, namespace: shop, labels: {app: api}}
            spec: {serviceAccount: api, address: 127.0.9.3, ports: [{port: 8080, protocol: HTTP}]}
            ---
            kind: Segment
            metadata: {name: web, namespace: shop}
            spec: {selector: {matchLabels: {app: web}}}
            ---
            kind: Segment
            metadata: {name: api, namespace: shop}
            spec: {selector: {matchLabels: {app: api}}}
            ---
            kind: Intent
            metadata: {name: web-to-api, namespace: shop}
            spec:
              action: Allow
              from: [{segment: web}]
              to: {segment: api, ports: [{port: 8080, http: {paths: ["/*"]}}]}
            ---
            kind: Intent
            metadata: {name: no-secret, namespace: shop}
            spec:
              action: Deny
              from: [{segment: web}]
              to: {segment: api, ports: [{port: 8080, http: {paths: ["/secret"]}}]}
            ---
            kind: Intent
            metadata: {name: no-admin, namespace: shop}
            spec:
              action: Deny
              from: [{segment: web}]
              to: {segment: api, ports: [{port: 8080, http: {paths: ["/admin/*"]}}]}
            """;

    static final CompiledMesh COMPILED = DesignReadingsTest.compile(MESH);

    static Decision check(Dialect dialect, String path) {
        return new Checker(COMPILED, dialect).check(new Query("shop/web-1", "shop/api-1", 8080, "GET", path));
    }

    @ParameterizedTest
    @ValueSource(strings = {"/admin/x", "//admin/x", "/public/../admin/x", "/./admin/x", "/%61dmin/x", "/%2e/admin/x",
            "/public/%2E%2E/admin/x", "/admin//x", "///admin/x?q=1", "\\admin\\x", "/%2Fadmin/x", "/admin%2fx",
            "/public%5C..%5Cadmin/x", "/a/b/../../admin/x", "/../admin/x", "/%41dmin/../admin/x"})
    void everySpellingOfAnAdminPathIsDeniedByTheDenyIntentOnEnvoy(String path) {
        assertThat(check(Dialect.ENVOY, path))
                .isEqualTo(new Decision(Decision.Verdict.DENY, "shop/no-admin", Optional.empty()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"/public/x", "/admin", "/administrator/x", "/public/..admin/x", "/%2561dmin/x"})
    void pathsThatAreNotUnderAdminStayAllowed(String path) {
        assertThat(check(Dialect.ENVOY, path))
                .isEqualTo(new Decision(Decision.Verdict.ALLOW, "shop/web-to-api", Optional.empty()));
    }

    @Test
    void aPathEnvoyRefusesIsReportedAsRejected() {
        assertThat(check(Dialect.ENVOY, "/admin/%00x").by()).isEqualTo(Decision.PATH_REJECTED);
        assertThat(check(Dialect.ENVOY, "/admin/%00x").allowed()).isFalse();
    }

    @Test
    void theCompiledInboundConnectionManagersNormalize() throws Exception {
        Listener inbound = COMPILED.proxies().get("shop/api-1").resources(Dialect.ENVOY).listeners().stream()
                .filter(l -> l.getName().equals(Checker.INBOUND_LISTENER)).findFirst().orElseThrow();
        int httpChains = 0;
        for (var chain : inbound.getFilterChainsList()) {
            for (var f : chain.getFiltersList()) {
                if (f.getTypedConfig().getTypeUrl().equals(InboundIndex.HCM_TYPE)) {
                    HttpConnectionManager hcm = f.getTypedConfig().unpack(HttpConnectionManager.class);
                    assertThat(hcm.getNormalizePath().getValue()).isTrue();
                    assertThat(hcm.getMergeSlashes()).isTrue();
                    assertThat(hcm.getPathWithEscapedSlashesAction()).isEqualTo(PathWithEscapedSlashesAction.UNESCAPE_AND_REDIRECT);
                    httpChains++;
                }
            }
        }
        assertThat(httpChains).isPositive();
    }

    /**
     * grpc-java matches {@code :path} as sent, query and fragment included, and looks a method up by exactly that
     * name (GrpcServerRawPathTest); Envoy strips them, so there {@code /secret?q=1} is {@code /secret}.
     */
    @Test
    void envoyMatchesThePathWithoutItsQuery() {
        assertThat(check(Dialect.ENVOY, "/secret?q=1"))
                .isEqualTo(new Decision(Decision.Verdict.DENY, "shop/no-secret", Optional.empty()));
    }

    @ParameterizedTest
    @CsvSource({"/admin/x, DENY, shop/no-admin", "//admin/x, ALLOW, shop/web-to-api",
            "/public/../admin/x, ALLOW, shop/web-to-api", "/%61dmin/x, ALLOW, shop/web-to-api",
            "/admin/x?q=1, DENY, shop/no-admin", "/secret, DENY, shop/no-secret", "/secret?q=1, ALLOW, shop/web-to-api",
            "/secret#f, ALLOW, shop/web-to-api"})
    void grpcDialectMatchesThePathAsSent(String path, Decision.Verdict verdict, String by) {
        assertThat(check(Dialect.GRPC, path)).isEqualTo(new Decision(verdict, by, Optional.empty()));
    }

    /** Cases from Envoy's own path_utility_test.cc and Chromium's canonicalizer rules. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "/xyz/../abc|/abc", "/xyz/./abc|/xyz/abc", "/xyz/.../abc|/xyz/.../abc", "/../../abc|/abc",
            "/dir/..|/", "/dir/.|/dir/", "xyz|/xyz", "/a b|/a%20b", "/%7e%41|/~A", "/%3a|/%3a", "/é|/%C3%A9",
            "/%%30%30|/%2500", "/a\\b|/a/b", "/%5Cb|/%5Cb", "/%25|/%25", "/a?b/../c|/a?b/../c"})
    void canonicalizesAsEnvoy(String in, String out) {
        assertThat(new EnvoyPathNormalization(true, false, PathWithEscapedSlashesAction.KEEP_UNCHANGED).apply(in))
                .contains(out);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"//a//b/|/a/b/", "/a|/a", "//|//", "/a//b?c//d|/a/b?c//d"})
    void mergesSlashesAsEnvoy(String in, String out) {
        assertThat(EnvoyPathNormalization.mergeSlashes(in.contains("?") ? in.substring(0, in.indexOf('?')) : in)
                + (in.contains("?") ? in.substring(in.indexOf('?')) : "")).isEqualTo(out);
    }

    @Test
    void escapedSlashesFollowTheChosenAction() {
        var reject = new EnvoyPathNormalization(true, true, PathWithEscapedSlashesAction.REJECT_REQUEST);
        assertThat(reject.apply("/a%2Fb")).isEmpty();
        assertThat(reject.apply("/a/b?x=%2F")).contains("/a/b?x=%2F");
        var keep = new EnvoyPathNormalization(true, true, PathWithEscapedSlashesAction.KEEP_UNCHANGED);
        assertThat(keep.apply("/a%2Fb")).contains("/a%2Fb");
        var redirect = new EnvoyPathNormalization(true, true, PathWithEscapedSlashesAction.UNESCAPE_AND_REDIRECT);
        assertThat(redirect.apply("/a%2F%2Fb%5c..%5cc")).contains("/a/c");
    }
}
