package dev.septa.e2e;

import dev.septa.sidecar.grpc.BytesMethods;
import static dev.septa.controlplane.support.GraphPageBrowser.screenPoint;
import static dev.septa.controlplane.support.GraphPageBrowser.style;
import static org.assertj.core.api.Assertions.assertThat;

import com.microsoft.playwright.Page;
import dev.septa.controlplane.support.GraphPageBrowser;
import dev.septa.ca.CaConfig;
import dev.septa.ca.CertificateAuthority;
import dev.septa.ca.FileCaKeyStore;
import dev.septa.identity.SpiffeId;
import dev.septa.ca.WorkloadCredential;
import dev.septa.controlplane.graph.GraphJson;
import dev.septa.controlplane.recommend.IntentRecommender;
import dev.septa.controlplane.recommend.ObservedEdge;
import dev.septa.demo.LocalDemo;
import dev.septa.policy.check.Checker;
import dev.septa.policy.check.Query;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.compile.Dialect;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.model.Mesh;
import dev.septa.e2e.support.ShopExample;
import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The traffic-graph page in headless Chromium (Debian's {@code /usr/bin/chromium}, Playwright for Java, no browser
 * download) against a running {@code septa demo}: six proxyless workload processes calling each other and reporting
 * every served call to the control plane over the access log service. Nothing is fed to the graph by the test but
 * real calls. The screenshot lands in {@code target/graph-demo.png}; with {@code -Dsepta.updateScreenshot=true} it
 * replaces {@code docs/graph.png}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GraphPageDemoBrowserTest {
    static final double TIMEOUT_MS = 120_000;
    static final String STOREFRONT = "shop/storefront-1";
    static final String PAYMENTS = "shop/payments-1";

    Path work;
    Path example;
    LocalDemo demo;
    GraphPageBrowser browser;

    @BeforeAll
    void start() throws Exception {
        work = Files.createTempDirectory("septa-e2e-graph");
        example = ShopExample.copyTo(work.resolve("shop"));
        demo = LocalDemo.start(new LocalDemo.Options(example.resolve("intents"), example.resolve("inventory.yaml"),
                work.resolve("state"), work.resolve("workloads"), Duration.ofSeconds(2),
                (id, event) -> {
                    if (event.kind().equals("error")) {
                        System.out.println("[" + id + "] " + event.kind() + " " + event.fields());
                    }
                },
                notice -> System.out.println("* " + notice)));
        browser = GraphPageBrowser.launch();
    }

    @AfterAll
    void stop() {
        if (browser != null) {
            browser.close();
        }
        if (demo != null) {
            demo.close();
        }
    }

    @Test
    void showsTheDemosTrafficItsDenialsAndIntentChangesLive() throws Exception {
        browser.onPage(TIMEOUT_MS, "graph-demo-failure.png", this::exercise);
    }

    private void exercise(Page page) throws Exception {
        page.navigate("http://127.0.0.1:" + demo.httpPort() + "/graph");
        page.evaluate("() => { window.__loadedOnce = 'still-the-same-page'; }");

        // Every workload of the demo, in its namespace and segment.
        page.waitForFunction("() => window.septa && window.septa.cy.nodes('[kind = \"workload\"]').length >= 6");
        @SuppressWarnings("unchecked")
        List<String> workloads = (List<String>) page.evaluate("() => window.septa.cy.nodes('[kind = \"workload\"]').map(n => n.id()).sort()");
        assertThat(workloads).contains(STOREFRONT, "shop/checkout-1", PAYMENTS, "shop/catalog-1", "shop/catalog-2",
                "monitoring/prometheus-1");
        assertThat(page.evaluate("() => window.septa.cy.getElementById('shop/payments-1').parent().id()")).isEqualTo("seg:shop/payments");

        // The demo's own calls, reported by the workloads: allowed edges named by their intents.
        waitForEdge(page, "shop/checkout-1", PAYMENTS, "ALLOW", "shop/checkout-may-charge");
        waitForEdge(page, STOREFRONT, "shop/catalog-1", "ALLOW", "shop/storefront-may-browse");

        // The storefront has no route to payments (egress scoping), so a compromised storefront calls it directly
        // with its own SVID: payments' RBAC refuses, its report reaches the page as denied by storefront-never-pays.
        WorkloadCredential storefront = CertificateAuthority.open(new FileCaKeyStore(work.resolve("state").resolve("ca")),
                CaConfig.forTrustDomain("cluster.local")).issueWorkloadCredential(SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/storefront"));
        // ShopExample moves the workloads to a random 127.N.x.y range, so ask the demo where payments-1 lives.
        String payments = demo.decisions().orElseThrow().compiled().mesh().workloads().stream()
                .filter(w -> w.id().equals(PAYMENTS)).findFirst().orElseThrow().address();
        assertThat(directCall(storefront, payments, 8443, "/shop.Payments/Charge").getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        String denied = waitForEdge(page, STOREFRONT, PAYMENTS, "DENY", "shop/storefront-never-pays");
        assertThat(style(page, denied, "line-color")).isEqualTo("rgb(198,40,40)");
        double[] at = screenPoint(page, denied);
        page.mouse().click(at[0], at[1]);
        page.waitForSelector("#details-intent");
        assertThat(page.textContent("#details-intent")).isEqualTo("shop/storefront-never-pays");

        Path shot = Paths.get("target", "graph-demo.png");
        page.screenshot(new Page.ScreenshotOptions().setPath(shot));
        assertThat(Files.size(shot)).isGreaterThan(10_000);
        if (Boolean.getBoolean("septa.updateScreenshot")) {
            Files.copy(shot, Paths.get("..", "docs", "graph.png"), StandardCopyOption.REPLACE_EXISTING);
        }

        // An intent change: storefront may now pay, the old Deny only reported (DryRun). The next direct call is
        // allowed and shows up without a reload, named by the new intent, dashed for the DryRun would-deny.
        Path intents = example.resolve("intents").resolve("intents.yaml");
        String text = Files.readString(intents);
        String deny = "metadata: {name: storefront-never-pays, namespace: shop}\nspec:\n  action: Deny\n";
        assertThat(text).contains(deny);
        Files.writeString(intents, text.replace(deny, deny + "  mode: DryRun\n") + """
                ---
                apiVersion: septa.dev/v1alpha1
                kind: Intent
                metadata: {name: storefront-may-pay, namespace: shop}
                spec:
                  action: Allow
                  from:
                    - segment: storefront
                  to:
                    segment: payments
                    ports:
                      - port: 8443
                        protocol: GRPC
                """);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        Status status;
        do {
            status = directCall(storefront, payments, 8443, "/shop.Payments/Charge");
        } while (status.getCode() != Status.Code.OK && System.nanoTime() < deadline && pause());
        assertThat(status.getCode()).as(status.toString()).isEqualTo(Status.Code.OK);
        String allowed = waitForEdge(page, STOREFRONT, PAYMENTS, "ALLOW", "shop/storefront-may-pay");
        assertThat(page.evaluate("id => window.septa.cy.getElementById(id).data('wouldDenyBy')", allowed))
                .isEqualTo("shop/storefront-never-pays");
        assertThat(style(page, allowed, "line-style")).isEqualTo("dashed");
        assertThat(style(page, allowed, "line-color")).isEqualTo("rgb(46,125,50)");
        assertThat(page.evaluate("() => window.__loadedOnce")).isEqualTo("still-the-same-page");
    }

    /**
     * {@code septa recommend} on the demo's own observed traffic (the allowed edges of {@code /api/graph}): compiled
     * with the inventory and checked by the {@code septa check} evaluator on the proxyless RBAC, it allows every
     * observed edge and nothing else but the pairs it reports as widened.
     */
    @Test
    void recommendationFromTheDemosTrafficAllowsWhatWasSeenAndNothingElse() throws Exception {
        var http = java.net.http.HttpClient.newHttpClient();
        var json = io.micronaut.json.JsonMapper.createDefault();
        var graph = new java.util.concurrent.atomic.AtomicReference<GraphJson>();
        org.awaitility.Awaitility.await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            String body = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                    "http://127.0.0.1:" + demo.httpPort() + "/api/graph")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            graph.set(json.readValue(body, GraphJson.class));
            return graph.get().edges().stream().filter(e -> "ALLOW".equals(e.verdict()))
                    .map(GraphJson.Edge::target).distinct().count() >= 4;
        });
        Mesh mesh = demo.controlPlane().core().meshState().mesh().orElseThrow();
        List<ObservedEdge> edges = graph.get().edges().stream().map(ObservedEdge::of).toList();
        var r = new IntentRecommender(IntentRecommender.Options.defaults()).recommend(mesh, edges);
        assertThat(r.unexpressible()).isEmpty();

        Path out = Files.createDirectories(work.resolve("recommended-" + System.nanoTime()));
        Files.writeString(out.resolve("recommended.yaml"), r.allYaml());
        List<dev.septa.policy.parse.InputFile> inputs = new java.util.ArrayList<>();
        for (Path f : List.of(out.resolve("recommended.yaml"), example.resolve("inventory.yaml"))) {
            inputs.add(new dev.septa.policy.parse.InputFile(f.toString(), Files.readString(f)));
        }
        var result = PolicyCompiler.compile(inputs);
        assertThat(result.diagnostics().stream().filter(d -> d.severity() == Diagnostic.Severity.ERROR)).isEmpty();
        CompiledMesh compiled = result.mesh().orElseThrow();

        // Replayed on every observed request, the recommendation denies nothing that was allowed and allows nothing
        // that was denied, apart from calls seen both ways (the workloads' first seconds), which it keeps denied.
        var impact = dev.septa.controlplane.recommend.ImpactAnalyzer.analyze(new Checker(compiled, Dialect.GRPC), edges);
        java.util.Set<String> contradictory = new java.util.TreeSet<>();
        r.contradictions().forEach(c -> contradictory.add(c.from() + " -> " + c.to() + ":" + c.port()));
        var changes = impact.changes().stream()
                .filter(c -> !contradictory.contains(c.edge().from() + " -> " + c.edge().to() + ":" + c.edge().port()))
                .map(c -> c.kind() + " " + c.edge().from() + " -> " + c.edge().to() + ":" + c.edge().port() + " " + c.request())
                .toList();
        System.out.printf("recommend on the demo: %d observed edges -> %d segments, %d intents, %d widened, %d requests replayed%n",
                edges.size(), r.segments(), r.intents().size(), r.widened().size(), impact.evaluated());
        assertThat(impact.evaluated()).isPositive();
        assertThat(changes).isEmpty();
    }

    /** Waits (over the page's live updates) for an edge with this verdict and deciding intent; returns its id. */
    private static String waitForEdge(Page page, String from, String to, String verdict, String decidedBy) {
        String find = "([s, t, v, by]) => window.septa.cy.edges().filter(e => e.source().id() === s && e.target().id() === t"
                + " && e.data('verdict') === v && e.data('decidedBy') === by).map(e => e.id())[0] || null";
        page.waitForFunction(find, List.of(from, to, verdict, decidedBy));
        return (String) page.evaluate(find, List.of(from, to, verdict, decidedBy));
    }



    private static boolean pause() {
        try {
            Thread.sleep(500);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }


    /** One call straight to a workload's address with this SVID, bypassing the caller's xDS routes. */
    static Status directCall(WorkloadCredential credential, String host, int port, String path) throws Exception {
        var creds = TlsChannelCredentials.newBuilder()
                .keyManager(new ByteArrayInputStream(credential.certificate().certificateChainPem().getBytes(StandardCharsets.US_ASCII)),
                        new ByteArrayInputStream(credential.privateKeyPkcs8Pem().getBytes(StandardCharsets.US_ASCII)))
                .trustManager(InsecureTrustManagerFactory.INSTANCE.getTrustManagers()).build();
        ManagedChannel channel = Grpc.newChannelBuilderForAddress(host, port, creds).build();
        var method = BytesMethods.unary(path.substring(1));
        try {
            ClientCalls.blockingUnaryCall(channel, method, CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), new byte[0]);
            return Status.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus();
        } finally {
            channel.shutdownNow();
        }
    }
}
