package dev.septa.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.demo.DemoFleet;
import dev.septa.demo.WorkloadEvents;
import dev.septa.e2e.support.RawHttp2Client;
import dev.septa.e2e.support.StaticXdsServer;
import dev.septa.policy.check.Checker;
import dev.septa.policy.check.Decision;
import dev.septa.policy.check.Query;
import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.Dialect;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.parse.InputFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11: what grpc-java's xDS server (XdsServerBuilder, configured with Septa's compiled proxyless output) does
 * with a {@code :path} that is not in canonical form, under Allow {@code /*} plus Deny {@code /admin/*}. The client
 * is grpc-java's, whose HTTP/2 {@code :path} is exactly {@code "/" + fullMethodName}, with no normalization; the
 * server's method name (which the workload reports) shows the path that arrived.
 *
 * <p>Found: grpc-java's server normalizes nothing. Its RBAC matches {@code :path} as received, and the method it
 * dispatches to is the path without its first slash: {@code //admin/x} passes the Deny and reaches method
 * {@code /admin/x} (which a generated service never has: it gets UNIMPLEMENTED there), not {@code admin/x}. So the
 * RBAC decision and the method reached agree, and {@code septa check --dialect grpc} matches the path as sent.
 */
class GrpcServerRawPathTest {
    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS) Path work;

    static final String MESH = """
            apiVersion: septa.dev/v1alpha1
            kind: Workload
            metadata: {name: web-1, namespace: shop, labels: {app: web}}
            spec: {serviceAccount: web, address: 127.OCTET.0.1}
            ---
            apiVersion: septa.dev/v1alpha1
            kind: Workload
            metadata: {name: api-1, namespace: shop, labels: {app: api}}
            spec: {serviceAccount: api, address: 127.OCTET.0.2, ports: [{name: grpc, port: 8080, protocol: GRPC}]}
            ---
            apiVersion: septa.dev/v1alpha1
            kind: Service
            metadata: {name: api, namespace: shop}
            spec:
              selector: {app: api}
              ports: [{name: grpc, port: 8080, protocol: GRPC}]
            ---
            apiVersion: septa.dev/v1alpha1
            kind: Segment
            metadata: {name: web, namespace: shop}
            spec: {selector: {matchLabels: {app: web}}}
            ---
            apiVersion: septa.dev/v1alpha1
            kind: Segment
            metadata: {name: api, namespace: shop}
            spec: {selector: {matchLabels: {app: api}}}
            ---
            apiVersion: septa.dev/v1alpha1
            kind: Intent
            metadata: {name: web-to-api, namespace: shop}
            spec:
              action: Allow
              from: [{segment: web}]
              to: {segment: api, ports: [{port: 8080, http: {paths: ["/*"]}}]}
            ---
            apiVersion: septa.dev/v1alpha1
            kind: Intent
            metadata: {name: no-secret, namespace: shop}
            spec:
              action: Deny
              from: [{segment: web}]
              to: {segment: api, ports: [{port: 8080, http: {paths: ["/secret"]}}]}
            ---
            apiVersion: septa.dev/v1alpha1
            kind: Intent
            metadata: {name: no-admin, namespace: shop}
            spec:
              action: Deny
              from: [{segment: web}]
              to: {segment: api, ports: [{port: 8080, http: {paths: ["/admin/*"]}}]}
            """;

    static final List<String> SPELLINGS = List.of("/admin/x", "//admin/x", "/public/../admin/x", "/./admin/x",
            "/%61dmin/x", "/admin%2Fx", "/public/x");

    @Test
    void grpcJavasServerMatchesAndDispatchesThePathAsSentAndSeptaCheckAgrees() throws Exception {
        int octet = java.util.concurrent.ThreadLocalRandom.current().nextInt(100, 250);
        CompileResult r = PolicyCompiler.compile(List.of(new InputFile("mesh.yaml", MESH.replace("OCTET", String.valueOf(octet)))));
        assertThat(r.hasErrors()).as("%s", r.diagnostics()).isFalse();
        CompiledMesh compiled = r.mesh().orElseThrow();
        Checker grpc = new Checker(compiled, Dialect.GRPC);
        Map<String, String> servedMethods = new ConcurrentHashMap<>();
        List<String> log = new CopyOnWriteArrayList<>();
        try (var server = new StaticXdsServer(compiled);
             var fleet = new DemoFleet(work, server, Duration.ZERO, (id, event) -> {
                 log.add(id + " " + event);
                 if (event.kind().equals("served")) {
                     String methodAndCaller = event.field(1);
                     servedMethods.put(methodAndCaller.substring(0, methodAndCaller.lastIndexOf(' ')), id);
                 }
             }).start(compiled.mesh())) {
            fleet.awaitReady(Duration.ofSeconds(120));
            for (String path : SPELLINGS) {
                WorkloadEvents.CallResult result = call(fleet, path);
                Decision expected = grpc.check(new Query("shop/web-1", "shop/api-1", 8080, "POST", path));
                assertThat(result.code()).as("%s: %s (log %s)", path, result, log)
                        .isEqualTo(expected.allowed() ? "OK" : "PERMISSION_DENIED");
                if (expected.allowed()) {
                    assertThat(servedMethods).as("the method the server dispatched %s to", path)
                            .containsKey(path.substring(1));
                }
            }
            // The same, and a few paths no gRPC client sends, as raw HTTP/2 requests with web-1's SVID.
            Path certs = work.resolve("shop_web-1").resolve("certs");
            try (var raw = new RawHttp2Client("127." + octet + ".0.2", 8080, certs.resolve("cert.pem").toFile(),
                    certs.resolve("key.pem").toFile(), certs.resolve("ca.pem").toFile())) {
                List<String> rawPaths = new java.util.ArrayList<>(SPELLINGS);
                // grpc-java's RBAC matches url_path against "/" + method name, query and fragment included.
                rawPaths.addAll(List.of("/admin/x?q=1", "/admin/x#f", "/%2e/admin/x", "/secret", "/secret?q=1", "/secret#f"));
                for (String path : rawPaths) {
                    Map<String, String> answer = raw.grpcCall("api.shop:8080", path);
                    Decision expected = grpc.check(new Query("shop/web-1", "shop/api-1", 8080, "POST", path));
                    assertThat(answer.get("grpc-status")).as("raw %s: %s", path, answer)
                            .isEqualTo(expected.allowed() ? "0" : "7");
                }
                for (String noSlash : List.of("admin/x", "\\admin\\x")) {
                    Map<String, String> answer = raw.grpcCall("api.shop:8080", noSlash);
                    assertThat(answer.get("grpc-status")).as("%s, without a leading slash: %s", noSlash, answer)
                            .isNotEqualTo("0");
                    assertThat(grpc.check(new Query("shop/web-1", "shop/api-1", 8080, "POST", noSlash)).allowed()).isFalse();
                }
            }
        }
        // What the server did, in one line each, for docs/check.md.
        assertThat(grpc.check(new Query("shop/web-1", "shop/api-1", 8080, "POST", "//admin/x")).allowed()).isTrue();
        assertThat(grpc.check(new Query("shop/web-1", "shop/api-1", 8080, "POST", "/admin/x")).allowed()).isFalse();
    }

    /** The first calls of a fresh fleet may meet name resolution still under way on a loaded machine: retry those. */
    private static WorkloadEvents.CallResult call(DemoFleet fleet, String path) throws Exception {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        WorkloadEvents.CallResult result;
        do {
            result = fleet.process("shop/web-1").call("api.shop:8080", path).get(90, TimeUnit.SECONDS);
        } while ((result.code().equals("DEADLINE_EXCEEDED") || result.code().equals("UNAVAILABLE"))
                && System.nanoTime() < giveUp);
        return result;
    }
}
