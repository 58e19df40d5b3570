package dev.septa.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.septa.controlplane.support.AdsTestClient;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole control plane on the shop example: real compiler, real CA in the state dir, Micronaut HTTP API. */
class ControlPlaneTest {
    static final Path SHOP = Path.of("..", "examples", "shop");

    @TempDir
    Path dir;

    ControlPlaneOptions options() throws Exception {
        Path intents = Files.createDirectories(dir.resolve("intents"));
        try (var files = Files.list(SHOP.resolve("intents"))) {
            for (Path f : files.toList()) {
                Files.copy(f, intents.resolve(f.getFileName()));
            }
        }
        Files.copy(SHOP.resolve("inventory.yaml"), dir.resolve("inventory.yaml"));
        return ControlPlaneOptions.builder().intentsDir(intents).inventoryFile(dir.resolve("inventory.yaml"))
                .stateDir(dir.resolve("state")).xdsHost("127.0.0.1").xdsPort(0).httpPort(0).build();
    }

    static String get(int port, String path) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return r.body();
    }

    @Test
    void servesTheShopOverXdsAndReportsOverHttp() throws Exception {
        ControlPlaneOptions options = options();
        String bundle;
        try (ControlPlane cp = ControlPlane.start(options)) {
            assertThat(cp.xdsPort()).isPositive();
            assertThat(get(cp.httpPort(), "/health")).contains("UP");
            String status = get(cp.httpPort(), "/api/status");
            assertThat(status).contains("\"ok\":true");

            bundle = Files.readString(options.stateDir().resolve("ca").resolve("trust-bundle.pem"));
            try (AdsTestClient client = new AdsTestClient(cp.xdsPort(), bundle,
                    cp.core().nodeTokens().mint("shop/checkout-1"), null)) {
                DiscoveryResponse lds = client.sotw().send(DiscoveryRequest.newBuilder()
                        .setNode(AdsTestClient.node("shop/checkout-1", "envoy"))
                        .setTypeUrl(Resources.V3.LISTENER_TYPE_URL).build()).next();
                List<String> names = lds.getResourcesList().stream().map(a -> {
                    try {
                        return a.unpack(Listener.class).getName();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }).toList();
                assertThat(names).contains("inbound");
                await().atMost(Duration.ofSeconds(30)).until(() -> get(cp.httpPort(), "/api/status").contains("shop/checkout-1"));
                assertThat(get(cp.httpPort(), "/prometheus"))
                        .contains("septa_proxies_connected{dialect=\"envoy\"} 1.0")
                        .contains("septa_compile_errors_total")
                        .contains("septa_xds_nacks_total{type=\"Listener\"} 0.0")
                        .contains("septa_push_latency_seconds_bucket");
            }
        }
        // A restart with the same state dir keeps the CA: the old trust bundle still verifies the new server.
        try (ControlPlane again = ControlPlane.start(options)) {
            assertThat(Files.readString(options.stateDir().resolve("ca").resolve("trust-bundle.pem"))).isEqualTo(bundle);
            try (AdsTestClient client = new AdsTestClient(again.xdsPort(), bundle,
                    again.core().nodeTokens().mint("shop/payments-1"), null)) {
                DiscoveryResponse lds = client.sotw().send(DiscoveryRequest.newBuilder()
                        .setNode(AdsTestClient.node("shop/payments-1", "grpc"))
                        .setTypeUrl(Resources.V3.LISTENER_TYPE_URL).build()).next();
                assertThat(lds.getResourcesCount()).isPositive();
            }
        }
    }

    @Test
    void statusCommandShowsProxiesAndTheErrorsOfABrokenEdit() throws Exception {
        ControlPlaneOptions options = options();
        try (ControlPlane cp = ControlPlane.start(options)) {
            String bundle = Files.readString(options.stateDir().resolve("ca").resolve("trust-bundle.pem"));
            try (AdsTestClient client = new AdsTestClient(cp.xdsPort(), bundle, cp.core().nodeTokens().mint("shop/checkout-1"), null)) {
                var stream = client.sotw();
                DiscoveryResponse lds = stream.send(DiscoveryRequest.newBuilder().setNode(AdsTestClient.node("shop/checkout-1", "envoy"))
                        .setTypeUrl(Resources.V3.LISTENER_TYPE_URL).build()).next();
                stream.send(DiscoveryRequest.newBuilder().setTypeUrl(Resources.V3.LISTENER_TYPE_URL)
                        .setVersionInfo(lds.getVersionInfo()).setResponseNonce(lds.getNonce()).build());
                await().atMost(Duration.ofSeconds(30)).until(() -> cp.core().status().proxies().stream().anyMatch(p -> p.inSync()));

                String server = "http://127.0.0.1:" + cp.httpPort();
                var ok = run("status", "--server", server);
                assertThat(ok.exit()).as(ok.out()).isZero();
                assertThat(ok.out()).contains("configuration: ok").contains("shop/checkout-1").contains("envoy").contains("in-sync")
                        .contains(lds.getVersionInfo().substring(0, 6));

                Path broken = options.intentsDir().resolve("zz-broken.yaml");
                Files.writeString(broken, """
                        apiVersion: septa.dev/v1alpha1
                        kind: Intent
                        metadata: {name: broken, namespace: shop}
                        spec:
                          action: Perhaps
                          to: {segment: payments}
                        """);
                await().atMost(Duration.ofSeconds(30)).until(() -> !cp.core().status().compile().ok());
                var rejected = run("status", "--server", server);
                assertThat(rejected.exit()).isEqualTo(1);
                assertThat(rejected.out()).contains("configuration: REJECTED").contains(broken + ":5:");
                // The proxy still holds the last good version.
                assertThat(rejected.out()).contains(lds.getVersionInfo().substring(0, 6));
            }
        }
    }

    record Run(int exit, String out) {}

    static Run run(String... args) {
        java.io.StringWriter out = new java.io.StringWriter();
        var cli = dev.septa.cli.SeptaCli.commandLine();
        cli.setOut(new java.io.PrintWriter(out));
        cli.setErr(new java.io.PrintWriter(out));
        int exit = cli.execute(args);
        return new Run(exit, out.toString());
    }
}
