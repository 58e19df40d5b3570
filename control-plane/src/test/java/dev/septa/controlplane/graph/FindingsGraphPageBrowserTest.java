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
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The graph page on a generated mesh of 200 workloads (4 namespaces x 10 segments x 5) and 1,000 observed edges, in
 * headless Chromium: workloads start grouped by segment with aggregated edges, a click on a group expands it, the
 * verdict, finding and name filters change what is drawn, and the findings (raised by the real detector from the
 * recorded calls, one pushed live over the event stream) highlight their workload and edge.
 */
class FindingsGraphPageBrowserTest {
    static final double TIMEOUT_MS = 60_000;
    static final int NAMESPACES = 4;
    static final int SEGMENTS = 10;
    static final int PER_SEGMENT = 5;
    static final int EDGES = 1_000;

    static EmbeddedServer server;
    static TrafficGraph graph;
    static GraphPageBrowser browser;
    static final List<WorkloadRef> WORKLOADS = new ArrayList<>();
    static WorkloadRef attacker;

    @BeforeAll
    static void start() {
        for (int n = 0; n < NAMESPACES; n++) {
            for (int s = 0; s < SEGMENTS; s++) {
                for (int w = 0; w < PER_SEGMENT; w++) {
                    WORKLOADS.add(WorkloadRef.workload("ns" + n, "w-" + n + "-" + s + "-" + w, "seg" + s));
                }
            }
        }
        ApplicationContext ctx = ApplicationContext.builder()
                .properties(Map.of("micronaut.server.host", "127.0.0.1", "micronaut.server.port", -1))
                .singletons(new MapDirectory(Map.of(), Map.of()) {
                    @Override
                    public Collection<WorkloadRef> workloads() {
                        return WORKLOADS;
                    }

                    @Override
                    public Map<String, String> quarantines() {
                        return Map.of(attacker.id(), "IR-7 probing");
                    }
                })
                .start();
        server = ctx.getBean(EmbeddedServer.class).start();
        graph = ctx.getBean(TrafficGraph.class);
        // 1,000 distinct edges, mostly allowed; each source has at most a few denied calls, far below the probing
        // threshold (20 a minute), so the only PROBING finding is the attacker's below.
        Random random = new Random(15);
        Set<String> seen = new HashSet<>();
        attacker = WORKLOADS.get(137);
        while (seen.size() < EDGES - 25) {
            WorkloadRef from = WORKLOADS.get(random.nextInt(WORKLOADS.size()));
            WorkloadRef to = WORKLOADS.get(random.nextInt(WORKLOADS.size()));
            int port = 8080 + random.nextInt(3);
            if (from == attacker || from == to || !seen.add(from.id() + ">" + to.id() + ":" + port)) {
                continue;
            }
            boolean deny = random.nextInt(10) == 0;
            graph.record(new Observation(from, to, port, deny ? Verdict.DENY : Verdict.ALLOW,
                    deny ? "default" : to.namespace() + "/allow-" + to.segment(), null, "POST", "/svc/Call"), deny ? 1 : 1 + random.nextInt(40));
        }
        // The attacker probes 25 workloads once each: 25 denied calls in a minute, one PROBING finding.
        for (int i = 0; i < 25; i++) {
            WorkloadRef to = WORKLOADS.get((i * 7 + 3) % WORKLOADS.size());
            graph.record(new Observation(attacker, to, 8443, Verdict.DENY, "default", null, "POST", "/admin/Dump"), 1);
        }
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

    @Test
    void aLargeMeshIsGroupedExpandableFilterableAndShowsItsFindings() throws Exception {
        browser.onPage(TIMEOUT_MS, "graph-findings-failure.png", this::exercise);
    }

    private static Number num(Page page, String js) {
        return (Number) page.evaluate(js);
    }

    private void exercise(Page page) throws Exception {
        long t0 = System.nanoTime();
        page.navigate(server.getURI().resolve("/graph").toString());

        // Grouped: 40 segments are too many to draw at once, so one node per namespace, no single workload, edges
        // aggregated between groups.
        page.waitForFunction("() => window.septa && window.septa.cy.nodes('[kind = \"group\"]').length > 0");
        long drawnMillis = (System.nanoTime() - t0) / 1_000_000;
        assertThat(num(page, "() => window.septa.state.data.edges.length").intValue()).isEqualTo(EDGES);
        assertThat(num(page, "() => window.septa.cy.nodes('[kind = \"group\"]').length").intValue()).isEqualTo(NAMESPACES);
        assertThat(num(page, "() => window.septa.cy.nodes('[kind = \"workload\"]').length").intValue()).isZero();
        int drawnEdges = num(page, "() => window.septa.cy.edges().length").intValue();
        assertThat(drawnEdges).isLessThan(EDGES);
        // Every observed edge is in exactly one drawn edge.
        assertThat(num(page, "() => window.septa.cy.edges().map(e => e.data('edges')).reduce((a, b) => a + b, 0)").intValue())
                .isEqualTo(EDGES);
        assertThat(drawnEdges).isLessThanOrEqualTo(NAMESPACES * NAMESPACES * 2);
        assertThat(page.evaluate("() => window.septa.cy.getElementById('nsg:ns1').data('label')")).isEqualTo("ns1: all (50)");

        // The attacker's PROBING finding is listed, and the group holding it is highlighted.
        page.waitForFunction("() => window.septa.findings.size >= 1");
        page.waitForFunction("id => window.septa.cy.getElementById(id).hasClass('finding')", "nsg:" + attacker.namespace());
        assertThat(page.textContent("#findings")).contains("PROBING", attacker.id());
        assertThat(num(page, "() => window.septa.cy.nodes('.finding').length").intValue()).isEqualTo(1);

        // A click on a namespace opens it into its segments; a click on a segment into its workloads.
        double[] ns = nodePoint(page, "nsg:ns2");
        page.mouse().click(ns[0], ns[1]);
        page.waitForFunction("() => window.septa.cy.getElementById('grp:ns2/seg5').nonempty()");
        assertThat(page.evaluate("() => window.septa.cy.getElementById('grp:ns2/seg5').data('label')")).isEqualTo("ns2/seg5 (5)");
        assertThat(page.evaluate("() => window.septa.cy.getElementById('grp:ns2/seg5').parent().id()")).isEqualTo("ns:ns2");
        assertThat(num(page, "() => window.septa.cy.nodes('[kind = \"group\"]').length").intValue()).isEqualTo(NAMESPACES - 1 + SEGMENTS);
        double[] at = nodePoint(page, "grp:ns2/seg5");
        page.mouse().click(at[0], at[1]);
        page.waitForFunction("() => window.septa.cy.getElementById('ns2/w-2-5-0').nonempty()");
        assertThat(page.evaluate("() => window.septa.cy.getElementById('ns2/w-2-5-0').parent().id()")).isEqualTo("seg:ns2/seg5");
        assertThat(page.evaluate("() => window.septa.cy.getElementById('grp:ns2/seg5').empty()")).isEqualTo(true);
        assertThat(num(page, "() => window.septa.cy.nodes('[kind = \"workload\"]').length").intValue()).isEqualTo(PER_SEGMENT);
        assertThat(num(page, "() => window.septa.cy.edges().map(e => e.data('edges')).reduce((a, b) => a + b, 0)").intValue())
                .isEqualTo(EDGES);

        Path grouped = Paths.get("target", "graph-large.png");
        page.evaluate("() => window.septa.cy.fit(undefined, 30)");
        page.screenshot(new Page.ScreenshotOptions().setPath(grouped));
        if (Boolean.getBoolean("septa.updateScreenshot")) {
            Files.copy(grouped, Paths.get("..", "docs", "graph-large.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }

        // Verdict filter: no allowed edge drawn, fewer edges in all.
        page.uncheck("#f-allow");
        page.waitForFunction("() => window.septa.cy.edges('.allow').length === 0");
        int deniedDrawn = num(page, "() => window.septa.cy.edges().map(e => e.data('edges')).reduce((a, b) => a + b, 0)").intValue();
        assertThat(deniedDrawn).isEqualTo(num(page, "() => window.septa.state.data.edges.filter(e => e.verdict === 'DENY').length").intValue());
        page.check("#f-allow");
        page.waitForFunction("() => window.septa.cy.edges('.allow').length > 0");

        // Finding filter: only the attacker's edges, each highlighted.
        page.check("#f-finding");
        page.waitForFunction("() => window.septa.cy.edges().every(e => e.hasClass('finding'))");
        assertThat(num(page, "() => window.septa.cy.edges().map(e => e.data('edges')).reduce((a, b) => a + b, 0)").intValue()).isEqualTo(25);
        page.uncheck("#f-finding");

        // Name filter: the edges touching workloads whose name contains the text; their groups open.
        page.fill("#f-name", "w-3-9-4");
        page.waitForFunction("() => window.septa.cy.getElementById('ns3/w-3-9-4').nonempty()");
        page.waitForFunction("() => window.septa.cy.edges().length > 0 && window.septa.cy.edges().every(e =>"
                + " (e.data('members').length ? e.data('members') : [e.data('source') + '>' + e.data('target')]).every(m => m.includes('w-3-9-4')))");
        int named = num(page, "() => window.septa.cy.edges().map(e => e.data('edges')).reduce((a, b) => a + b, 0)").intValue();
        assertThat(named).isEqualTo(num(page, "() => window.septa.state.data.edges.filter(e => e.source === 'ns3/w-3-9-4'"
                + " || e.target === 'ns3/w-3-9-4').length").intValue());
        page.fill("#f-name", "");
        page.waitForFunction("() => window.septa.cy.getElementById('ns3/w-3-9-4').empty()");

        // The quarantined attacker (septa quarantine): once its group is open, a red double ring and the reason.
        page.fill("#f-name", attacker.name());
        page.waitForFunction("id => window.septa.cy.getElementById(id).nonempty()", attacker.id());
        assertThat(page.evaluate("id => window.septa.cy.getElementById(id).data('label')", attacker.id()))
                .asString().contains(attacker.name(), "quarantine: IR-7 probing");
        assertThat(page.evaluate("id => window.septa.cy.getElementById(id).style('border-style')", attacker.id())).isEqualTo("double");
        assertThat(num(page, "() => window.septa.cy.nodes('[?quarantine]').length").intValue()).isEqualTo(1);
        page.fill("#f-name", "");
        page.waitForFunction("id => window.septa.cy.getElementById(id).empty()", attacker.id());

        // A new finding arrives live: allowed traffic a DryRun intent would deny. Its edge and workload are marked.
        WorkloadRef from = WORKLOADS.get(11);
        WorkloadRef to = WORKLOADS.get(190);
        graph.record(new Observation(from, to, 9000, Verdict.ALLOW, "ns3/allow-seg8", "ns3/dryrun-lockdown", "POST", "/svc/Write"), 3);
        page.waitForFunction("() => Array.from(window.septa.findings.values()).some(f => f.kind === 'WOULD_DENY')");
        page.waitForSelector("#findings .kind-WOULD_DENY");
        page.waitForFunction("id => { const holder = window.septa.cy.nodes().filter(n => n.id() === id"
                + " || (n.data('members') || []).includes(id)); return holder.nonempty() && holder.every(n => n.hasClass('finding')); }",
                from.id());
        // Clicking it opens both ends' groups and marks the workload and the edge.
        page.click("#findings .kind-WOULD_DENY");
        String edge = "e:" + new TrafficGraph.Edge(from, to, 9000, Verdict.ALLOW, "ns3/allow-seg8", "ns3/dryrun-lockdown", 0, 0,
                java.time.Instant.EPOCH).id();
        page.waitForFunction("id => window.septa.cy.getElementById(id).nonempty()", edge);
        assertThat(page.evaluate("id => window.septa.cy.getElementById(id).hasClass('finding')", edge)).isEqualTo(true);
        assertThat(page.evaluate("id => window.septa.cy.getElementById(id).hasClass('focus')", edge)).isEqualTo(true);
        assertThat(page.evaluate("id => window.septa.cy.getElementById(id).hasClass('focus')", from.id())).isEqualTo(true);
        assertThat(page.evaluate("id => window.septa.cy.getElementById(id).style('underlay-opacity')", edge)).isNotEqualTo("0");

        Path shot = Paths.get("target", "graph-findings.png");
        page.screenshot(new Page.ScreenshotOptions().setPath(shot));
        assertThat(Files.size(shot)).isGreaterThan(10_000);
        System.out.printf("graph page: %d workloads, %d edges grouped and drawn in %d ms (%d drawn edges)%n",
                WORKLOADS.size(), EDGES, drawnMillis, drawnEdges);
    }

    private static double[] nodePoint(Page page, String id) {
        page.waitForFunction("id => window.septa.cy.getElementById(id).nonempty()", id);
        @SuppressWarnings("unchecked")
        List<Number> p = (List<Number>) page.evaluate("id => { const n = window.septa.cy.getElementById(id);"
                + " window.septa.cy.center(n); const q = n.renderedPosition();"
                + " const r = document.getElementById('cy').getBoundingClientRect(); return [r.left + q.x, r.top + q.y]; }", id);
        return new double[]{p.get(0).doubleValue(), p.get(1).doubleValue()};
    }
}
