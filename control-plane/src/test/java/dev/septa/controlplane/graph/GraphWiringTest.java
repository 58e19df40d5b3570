package dev.septa.controlplane.graph;

import dev.septa.controlplane.support.ShopFixture;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.septa.controlplane.ControlPlane;
import dev.septa.controlplane.support.AdsTestClient;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The graph wired into the running control plane on the shop example: the page and API on the HTTP port, the
 * access-log receiver on the xDS port behind its authentication, the inventory and the policy annotator following
 * the applied compiles.
 */
class GraphWiringTest {
    static final String STOREFRONT = "spiffe://cluster.local/ns/shop/sa/storefront";
    static final String CHECKOUT = "spiffe://cluster.local/ns/shop/sa/checkout";

    @TempDir
    Path dir;

    @Test
    void reportsBecomeAnnotatedEdgesAndOnlyAsTheReportersOwnNode() throws Exception {
        var options = ShopFixture.options(dir).build();
        try (ControlPlane cp = ControlPlane.start(options)) {
            assertThat(get(cp.httpPort(), "/graph")).contains("cytoscape");
            // The inventory is in the graph before any traffic, grouped by segment.
            assertThat(get(cp.httpPort(), "/api/graph")).contains("shop/payments-1").contains("monitoring/prometheus-1");

            String bundle = Files.readString(options.stateDir().resolve("ca").resolve("trust-bundle.pem"));
            try (var payments = new AdsTestClient(cp.xdsPort(), bundle, cp.core().nodeTokens().mint("shop/payments-1"), null)) {
                // A proxyless server's report: denied, without RBAC metadata; the annotator names the intent.
                var denied = EnvoyEntries.http(STOREFRONT, "127.0.1.1", "127.0.1.3", 8443, Metadata.getDefaultInstance(),
                        200, "rbac_access_denied", "/shop.Payments/Charge");
                var allowed = EnvoyEntries.http(CHECKOUT, "127.0.1.2", "127.0.1.3", 8443, Metadata.getDefaultInstance(),
                        200, "via_upstream", "/shop.Payments/Charge");
                assertThat(send(payments, EnvoyEntries.first("shop/payments-1", denied, allowed)).get(30, TimeUnit.SECONDS))
                        .isNull();
            }
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                String graph = get(cp.httpPort(), "/api/graph?verdict=DENY");
                assertThat(graph).contains("shop/storefront-1").contains("shop/storefront-never-pays");
            });
            assertThat(get(cp.httpPort(), "/api/graph?verdict=ALLOW")).contains("shop/checkout-may-charge");

            // checkout's token may not report as payments (decision 0002).
            try (var checkout = new AdsTestClient(cp.xdsPort(), bundle, cp.core().nodeTokens().mint("shop/checkout-1"), null)) {
                Throwable refused = send(checkout, EnvoyEntries.first("shop/payments-1", EnvoyEntries.http(CHECKOUT,
                        "127.0.1.2", "127.0.1.3", 8443, Metadata.getDefaultInstance(), 200, "via_upstream", "/x")))
                        .get(30, TimeUnit.SECONDS);
                assertThat(Status.fromThrowable(refused).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            }
            // No credential at all: refused before anything is read.
            try (var nobody = new AdsTestClient(cp.xdsPort(), bundle, null, null)) {
                Throwable refused = send(nobody, EnvoyEntries.first("shop/payments-1")).get(30, TimeUnit.SECONDS);
                assertThat(Status.fromThrowable(refused).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
            }
        }
    }

    /** Sends one message and completes; the future holds the stream's error, or null when it ended cleanly. */
    static CompletableFuture<Throwable> send(AdsTestClient client, StreamAccessLogsMessage message) {
        CompletableFuture<Throwable> done = new CompletableFuture<>();
        var requests = AccessLogServiceGrpc.newStub(client.channel()).streamAccessLogs(new StreamObserver<>() {
            @Override
            public void onNext(StreamAccessLogsResponse value) {
            }

            @Override
            public void onError(Throwable t) {
                done.complete(t);
            }

            @Override
            public void onCompleted() {
                done.complete(null);
            }
        });
        requests.onNext(message);
        requests.onCompleted();
        return done;
    }

    static String get(int port, String path) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return r.body();
    }
}
