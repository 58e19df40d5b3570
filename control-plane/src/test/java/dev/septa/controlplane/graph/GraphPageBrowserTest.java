package dev.septa.controlplane.graph;

import com.microsoft.playwright.Page;
import dev.septa.controlplane.support.GraphPageBrowser;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import static dev.septa.controlplane.support.GraphPageBrowser.screenPoint;
import static dev.septa.controlplane.support.GraphPageBrowser.style;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The traffic-graph page in headless Chromium (Debian's {@code /usr/bin/chromium}, driven by Playwright for Java
 * with no browser download) against Micronaut's embedded server and a {@link TrafficGraph} fed with synthetic
 * observations of the shop demo. The screenshot lands in {@code target/graph.png}; with
 * {@code -Dsepta.updateScreenshot=true} it also replaces {@code docs/graph.png}.
 */
class GraphPageBrowserTest {
    static final double TIMEOUT_MS = 60_000;

    static final WorkloadRef STOREFRONT = WorkloadRef.workload("shop", "storefront-1", "storefront");
    static final WorkloadRef CHECKOUT = WorkloadRef.workload("shop", "checkout-1", "checkout");
    static final WorkloadRef PAYMENTS = WorkloadRef.workload("shop", "payments-1", "payments");
    static final WorkloadRef PAYMENTS2 = WorkloadRef.workload("shop", "payments-2", "payments");
    static final WorkloadRef CATALOG = WorkloadRef.workload("shop", "catalog-1", "catalog");
    static final WorkloadRef PROMETHEUS = WorkloadRef.workload("monitoring", "prometheus-1", "scrapers");
    static final WorkloadRef FRAUD = WorkloadRef.workload("shop", "fraud-1", "fraud");

    static EmbeddedServer server;
    static TrafficGraph graph;
    static GraphPageBrowser browser;

    @BeforeAll
    static void start() {
        ApplicationContext ctx = ApplicationContext.builder()
                .properties(Map.of("micronaut.server.host", "127.0.0.1", "micronaut.server.port", -1))
                .singletons(new MapDirectory(Map.of(), Map.of()) {
                    @Override
                    public Collection<WorkloadRef> workloads() {
                        return List.of(STOREFRONT, CHECKOUT, PAYMENTS, PAYMENTS2, CATALOG, PROMETHEUS);
                    }
                })
                .start();
        server = ctx.getBean(EmbeddedServer.class).start();
        graph = ctx.getBean(TrafficGraph.class);
        graph.record(obs(STOREFRONT, CATALOG, 8080, Verdict.ALLOW, "shop/storefront-may-browse", null), 240);
        graph.record(obs(STOREFRONT, CHECKOUT, 8443, Verdict.ALLOW, "shop/storefront-may-checkout", null), 60);
        graph.record(obs(CHECKOUT, PAYMENTS, 8443, Verdict.ALLOW, "shop/checkout-may-charge", null), 45);
        graph.record(obs(CHECKOUT, PAYMENTS2, 8443, Verdict.ALLOW, "shop/checkout-may-charge", "shop/dryrun-charge-limits"), 15);
        graph.record(obs(STOREFRONT, PAYMENTS, 8443, Verdict.DENY, "shop/storefront-never-pays", null), 9);
        graph.record(obs(PROMETHEUS, PAYMENTS, 9090, Verdict.ALLOW, "shop/monitoring-may-scrape", null), 4);
        graph.record(obs(WorkloadRef.external(null, "10.1.2.3"), CATALOG, 8080, Verdict.DENY, "default", null), 3);

        browser = GraphPageBrowser.launch();
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.close();
        }
        if (server != null) {
            server.getApplicationContext().close();
        }
    }

    static Observation obs(WorkloadRef from, WorkloadRef to, int port, Verdict v, String by, String wouldDeny) {
        return new Observation(from, to, port, v, by, wouldDeny, "POST", "/x");
    }

    static String edgeId(WorkloadRef from, WorkloadRef to, int port, Verdict v, String by, String wouldDeny) {
        return "e:" + new TrafficGraph.Edge(from, to, port, v, by, wouldDeny, 0, 0, java.time.Instant.EPOCH).id();
    }

    @Test
    void showsWorkloadsDeniedEdgesTheirIntentsAndLiveUpdates() throws Exception {
        browser.onPage(TIMEOUT_MS, "graph-failure.png", this::exercise);
    }

    private void exercise(Page page) throws Exception {
        page.navigate(server.getURI().resolve("/graph").toString());
        page.evaluate("() => { window.__loadedOnce = 'still-the-same-page'; }");

        // The workloads, grouped: workload inside its segment inside its namespace.
        page.waitForFunction("() => window.septa && window.septa.cy.nodes('[kind = \"workload\"]').length >= 7");
        @SuppressWarnings("unchecked")
        List<String> workloads = (List<String>) page.evaluate("() => window.septa.cy.nodes('[kind = \"workload\"]').map(n => n.id()).sort()");
        assertThat(workloads).contains("shop/storefront-1", "shop/checkout-1", "shop/payments-1", "shop/payments-2",
                "shop/catalog-1", "monitoring/prometheus-1", "10.1.2.3");
        assertThat(page.evaluate("() => window.septa.cy.getElementById('shop/payments-1').parent().id()")).isEqualTo("seg:shop/payments");
        assertThat(page.evaluate("() => window.septa.cy.getElementById('seg:shop/payments').parent().id()")).isEqualTo("ns:shop");
        assertThat(page.evaluate("() => window.septa.cy.getElementById('shop/payments-1').visible()")).isEqualTo(true);

        // The denied edge is drawn as denied (red), the allowed one green, the DryRun would-deny dashed.
        String denied = edgeId(STOREFRONT, PAYMENTS, 8443, Verdict.DENY, "shop/storefront-never-pays", null);
        String allowed = edgeId(CHECKOUT, PAYMENTS, 8443, Verdict.ALLOW, "shop/checkout-may-charge", null);
        String wouldDeny = edgeId(CHECKOUT, PAYMENTS2, 8443, Verdict.ALLOW, "shop/checkout-may-charge", "shop/dryrun-charge-limits");
        assertThat(style(page, denied, "line-color")).isEqualTo("rgb(198,40,40)");
        assertThat(style(page, allowed, "line-color")).isEqualTo("rgb(46,125,50)");
        assertThat(style(page, denied, "line-style")).isEqualTo("solid");
        assertThat(style(page, wouldDeny, "line-style")).isEqualTo("dashed");

        // Hovering the denied edge names its intent; clicking it shows the details panel.
        double[] at = screenPoint(page, denied);
        page.mouse().move(at[0], at[1]);
        page.waitForFunction("() => !document.getElementById('tip').hidden", null, new Page.WaitForFunctionOptions().setTimeout(10_000));
        assertThat(page.textContent("#tip")).contains("denied by shop/storefront-never-pays");
        page.mouse().click(at[0], at[1]);
        page.waitForSelector("#details-intent");
        assertThat(page.textContent("#details-intent")).isEqualTo("shop/storefront-never-pays");
        assertThat(page.textContent("#details")).contains("DENY", "shop/storefront-1", "shop/payments-1:8443");

        Path shot = Paths.get("target", "graph.png");
        page.screenshot(new Page.ScreenshotOptions().setPath(shot));
        assertThat(Files.size(shot)).isGreaterThan(10_000);
        if (Boolean.getBoolean("septa.updateScreenshot")) {
            Path docs = Paths.get("..", "docs", "graph.png");
            Files.createDirectories(docs.getParent());
            Files.copy(shot, docs, StandardCopyOption.REPLACE_EXISTING);
        }

        // New traffic and an intent change arrive over server-sent events, without a reload: a new workload's
        // denied edge, and storefront -> payments now allowed by a new intent.
        graph.record(obs(FRAUD, PAYMENTS, 8443, Verdict.DENY, "shop/no-fraud", null), 2);
        graph.record(obs(STOREFRONT, PAYMENTS, 8443, Verdict.ALLOW, "shop/storefront-may-pay", null), 3);
        String fraud = edgeId(FRAUD, PAYMENTS, 8443, Verdict.DENY, "shop/no-fraud", null);
        String changed = edgeId(STOREFRONT, PAYMENTS, 8443, Verdict.ALLOW, "shop/storefront-may-pay", null);
        page.waitForFunction("ids => ids.every(id => window.septa.cy.getElementById(id).nonempty())", List.of(fraud, changed));
        assertThat(page.evaluate("() => window.septa.cy.getElementById('shop/fraud-1').parent().id()")).isEqualTo("seg:shop/fraud");
        assertThat(style(page, fraud, "line-color")).isEqualTo("rgb(198,40,40)");
        assertThat(page.evaluate("id => window.septa.cy.getElementById(id).data('decidedBy')", changed)).isEqualTo("shop/storefront-may-pay");
        assertThat(page.evaluate("() => window.__loadedOnce")).isEqualTo("still-the-same-page");
        assertThat(page.textContent("#live")).isEqualTo("live");

        // Filters: verdict, then namespace.
        page.uncheck("#f-allow");
        page.waitForFunction("() => window.septa.cy.edges('.allow').length === 0");
        assertThat((Integer) page.evaluate("() => window.septa.cy.edges('.deny').length")).isGreaterThanOrEqualTo(3);
        page.check("#f-allow");
        // Only monitoring: its workloads and their edges, with the far ends of those edges, nothing else.
        page.uncheck("#f-ns input[value='shop']");
        page.uncheck("#f-ns input[value='(outside)']");
        page.waitForFunction("() => window.septa.cy.getElementById('shop/storefront-1').empty()");
        assertThat(page.evaluate("() => window.septa.cy.getElementById('monitoring/prometheus-1').nonempty()")).isEqualTo(true);
        assertThat(page.evaluate("() => window.septa.cy.getElementById('shop/payments-1').nonempty()")).isEqualTo(true);
        assertThat(page.evaluate("() => window.septa.cy.edges().length")).isEqualTo(1);
    }


}
