package dev.septa.controlplane.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.septa.controlplane.ControlPlane;
import dev.septa.controlplane.findings.Finding;
import dev.septa.controlplane.findings.FindingKind;
import dev.septa.controlplane.findings.FindingsJson;
import dev.septa.controlplane.support.AdsTestClient;
import dev.septa.controlplane.support.SeptaRun;
import dev.septa.controlplane.support.ShopFixture;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.micronaut.serde.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Findings on the running control plane (the shop example, with {@code spec.detection} set in its MeshConfig), fed by
 * real access-log streams over the xDS port's TLS, authenticated as the reporting workload, in the shape a proxyless
 * server reports (no RBAC metadata: the policy annotator names the intents, as for the demo's grpc-java workloads).
 * Checks each kind, {@code /api/findings}, the JSON lines file, {@code /prometheus} and {@code septa findings}.
 */
class FindingsControlPlaneTest {
    static final String STOREFRONT = "spiffe://cluster.local/ns/shop/sa/storefront";
    static final String CHECKOUT = "spiffe://cluster.local/ns/shop/sa/checkout";
    static final Duration LEARNING = Duration.ofSeconds(15);

    @TempDir
    Path dir;

    @Test
    void probingNewEdgesAndDryRunWouldDenyBecomeFindingsEverywhere() throws Exception {
        var options = ShopFixture.options(dir).build();
        Files.writeString(options.intentsDir().resolve("mesh.yaml"), """
                apiVersion: septa.dev/v1alpha1
                kind: MeshConfig
                metadata: {name: mesh}
                spec:
                  trustDomain: cluster.local
                  defaultAction: Deny
                  detection: {probeThreshold: 5, probeWindow: 1m, learningWindow: 15s}
                """);
        try (ControlPlane cp = ControlPlane.start(options)) {
            String bundle = Files.readString(options.stateDir().resolve("ca").resolve("trust-bundle.pem"));
            int http = cp.httpPort();
            FindingsJson none = findings(http);
            assertThat(none.findings()).isEmpty();
            assertThat(none.detection().probeThreshold()).isEqualTo(5);
            assertThat(none.detection().newEdgeDetection()).isEqualTo("learning starts with the first call");
            assertThat(SeptaRun.of("findings", "--server", "http://127.0.0.1:" + http).exit()).isZero();

            // The learning window starts with the first call: checkout -> payments, allowed. Learned, so never a finding.
            Instant started = Instant.now();
            report(cp, bundle, "shop/payments-1", "127.0.1.3", 8443, List.of(
                    call(CHECKOUT, "127.0.1.2", "127.0.1.3", 8443, true, "/shop.Payments/Charge")));
            // DryRun: checkout updates the catalog, allowed by checkout-may-read-catalog, which lock-catalog-writes would deny.
            report(cp, bundle, "shop/catalog-1", "127.0.1.4", 9090, List.of(
                    call(CHECKOUT, "127.0.1.2", "127.0.1.4", 9090, true, "/shop.Catalog/UpdateStock"),
                    call(CHECKOUT, "127.0.1.2", "127.0.1.4", 9090, true, "/shop.Catalog/UpdateStock")));
            // Probing: storefront calls payments 8 times, denied by shop/storefront-never-pays (threshold 5).
            List<HTTPAccessLogEntry> probes = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                probes.add(call(STOREFRONT, "127.0.1.1", "127.0.1.3", 8443, false, "/shop.Payments/Charge" + (i % 2 == 0 ? "" : "X")));
            }
            report(cp, bundle, "shop/payments-1", "127.0.1.3", 8443, probes);

            await().atMost(Duration.ofSeconds(30)).until(() -> findings(http).findings().size() == 2);
            FindingsJson two = findings(http);
            Finding probing = only(two, FindingKind.PROBING);
            assertThat(probing.source()).isEqualTo("shop/storefront-1");
            assertThat(probing.destination()).isEqualTo("shop/payments-1");
            assertThat(probing.port()).isEqualTo(8443);
            assertThat(probing.intent()).isEqualTo("shop/storefront-never-pays");
            assertThat(probing.count()).isEqualTo(8);
            assertThat(probing.samples()).containsExactlyInAnyOrder("POST /shop.Payments/Charge", "POST /shop.Payments/ChargeX");
            Finding wouldDeny = only(two, FindingKind.WOULD_DENY);
            assertThat(wouldDeny.source()).isEqualTo("shop/checkout-1");
            assertThat(wouldDeny.destination()).isEqualTo("shop/catalog-1");
            assertThat(wouldDeny.intent()).isEqualTo("shop/lock-catalog-writes");
            assertThat(wouldDeny.count()).isEqualTo(2);

            // Two more denied calls: the same one finding, counted on.
            report(cp, bundle, "shop/payments-1", "127.0.1.3", 8443, List.of(
                    call(STOREFRONT, "127.0.1.1", "127.0.1.3", 8443, false, "/shop.Payments/Refund"),
                    call(STOREFRONT, "127.0.1.1", "127.0.1.3", 8443, false, "/shop.Payments/Refund")));
            await().atMost(Duration.ofSeconds(30)).until(() -> only(findings(http), FindingKind.PROBING).count() == 10);
            assertThat(findings(http).findings()).hasSize(2);

            // After the learning window: the learned edge is quiet, a new allowed one is new behaviour.
            Thread.sleep(Math.max(0, Duration.between(Instant.now(), started.plus(LEARNING).plusSeconds(1)).toMillis()));
            await().atMost(Duration.ofSeconds(30)).until(() -> findings(http).detection().newEdgeDetection().equals("on"));
            report(cp, bundle, "shop/payments-1", "127.0.1.3", 8443, List.of(
                    call(CHECKOUT, "127.0.1.2", "127.0.1.3", 8443, true, "/shop.Payments/Charge")));
            report(cp, bundle, "shop/catalog-1", "127.0.1.4", 9090, List.of(
                    call(STOREFRONT, "127.0.1.1", "127.0.1.4", 9090, true, "/shop.Catalog/GetItem")));
            await().atMost(Duration.ofSeconds(30)).until(() -> findings(http).findings().size() == 3);
            Finding newEdge = only(findings(http), FindingKind.NEW_EDGE);
            assertThat(newEdge.source()).isEqualTo("shop/storefront-1");
            assertThat(newEdge.destination()).isEqualTo("shop/catalog-1");
            assertThat(newEdge.port()).isEqualTo(9090);
            assertThat(newEdge.intent()).isEqualTo("shop/storefront-may-browse");
            assertThat(newEdge.samples()).containsExactly("POST /shop.Catalog/GetItem");

            // Prometheus: the per-edge counters by verdict and intent, and the findings by kind.
            String metrics = GraphWiringTest.get(http, "/prometheus");
            assertThat(metrics).contains("septa_requests_total{destination_namespace=\"shop\",destination_workload=\"payments-1\","
                    + "intent=\"shop/storefront-never-pays\",port=\"8443\",source_namespace=\"shop\",source_workload=\"storefront-1\","
                    + "verdict=\"DENY\"} 10.0");
            assertThat(metrics).contains("septa_requests_total{destination_namespace=\"shop\",destination_workload=\"payments-1\","
                    + "intent=\"shop/checkout-may-charge\",port=\"8443\",source_namespace=\"shop\",source_workload=\"checkout-1\","
                    + "verdict=\"ALLOW\"} 2.0");
            assertThat(metrics).contains("septa_findings_total{kind=\"PROBING\"} 1.0", "septa_findings_total{kind=\"NEW_EDGE\"} 1.0",
                    "septa_findings_total{kind=\"WOULD_DENY\"} 1.0", "septa_requests_overflow_total 0.0");

            // The JSON lines sink in the state directory: one "raised" line per finding.
            Path sink = options.stateDir().resolve("findings.jsonl");
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(sink)
                    && Files.readAllLines(sink).stream().filter(l -> l.contains("\"event\":\"raised\"")).count() == 3);
            for (String line : Files.readAllLines(sink)) {
                assertThat(line).startsWith("{\"type\":\"septa.finding\"");
            }

            // septa findings: exit 1 when there are findings; --kind filters; a bad kind is exit 2.
            SeptaRun all = SeptaRun.of("findings", "--server", "http://127.0.0.1:" + http);
            assertThat(all.exit()).as(all.err()).isEqualTo(1);
            assertThat(all.out()).contains("PROBING    shop/storefront-1 -> shop/payments-1:8443  shop/storefront-never-pays  count 10")
                    .contains("NEW_EDGE", "WOULD_DENY");
            SeptaRun onlyNew = SeptaRun.of("findings", "--server", "http://127.0.0.1:" + http, "--kind", "new_edge");
            assertThat(onlyNew.out()).contains("NEW_EDGE").doesNotContain("PROBING ");
            assertThat(SeptaRun.of("findings", "--server", "http://127.0.0.1:" + http, "--kind", "PORTSCAN").exit()).isEqualTo(2);
        }
    }

    static Finding only(FindingsJson json, FindingKind kind) {
        List<Finding> of = json.findings().stream().filter(f -> f.kind() == kind).toList();
        assertThat(of).as(kind + " findings").hasSize(1);
        return of.getFirst();
    }

    static FindingsJson findings(int http) throws Exception {
        return ObjectMapper.getDefault().readValue(GraphWiringTest.get(http, "/api/findings"), FindingsJson.class);
    }

    static HTTPAccessLogEntry call(String peer, String peerIp, String localIp, int port, boolean allowed, String path) {
        return EnvoyEntries.http(peer, peerIp, localIp, port, Metadata.getDefaultInstance(), 200,
                allowed ? "via_upstream" : "rbac_access_denied", path);
    }

    /** One access-log stream as {@code node}, authenticated with that node's token, carrying {@code entries}. */
    static void report(ControlPlane cp, String bundle, String node, String ip, int port, List<HTTPAccessLogEntry> entries)
            throws Exception {
        try (var client = new AdsTestClient(cp.xdsPort(), bundle, cp.core().nodeTokens().mint(node), null)) {
            Throwable error = GraphWiringTest.send(client, EnvoyEntries.first(node, entries.toArray(HTTPAccessLogEntry[]::new)))
                    .get(30, TimeUnit.SECONDS);
            assertThat(error).isNull();
        }
    }
}
