package dev.septa.controlplane.graph;

import io.micronaut.context.ApplicationContext;
import io.micronaut.json.JsonMapper;
import io.micronaut.runtime.server.EmbeddedServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The graph's HTTP side on Micronaut's embedded Netty server, on an ephemeral loopback port. */
class GraphControllerTest {
    static final WorkloadRef CHECKOUT = WorkloadRef.workload("shop", "checkout-1", "checkout");
    static final WorkloadRef STOREFRONT = WorkloadRef.workload("shop", "storefront-1", "storefront");
    static final WorkloadRef PAYMENTS = WorkloadRef.workload("shop", "payments-1", "payments");
    static final WorkloadRef PROMETHEUS = WorkloadRef.workload("monitoring", "prometheus-1", null);

    static EmbeddedServer server;
    static TrafficGraph graph;
    static JsonMapper json;
    static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeAll
    static void start() {
        ApplicationContext ctx = ApplicationContext.builder()
                .properties(Map.of("micronaut.server.host", "127.0.0.1", "micronaut.server.port", -1))
                .singletons(new MapDirectory(Map.of(), Map.of()) {
                    @Override
                    public java.util.Collection<WorkloadRef> workloads() {
                        return List.of(CHECKOUT, STOREFRONT, PAYMENTS, PROMETHEUS);
                    }
                })
                .start();
        server = ctx.getBean(EmbeddedServer.class).start();
        graph = ctx.getBean(TrafficGraph.class);
        json = ctx.getBean(JsonMapper.class);
        graph.record(new Observation(CHECKOUT, PAYMENTS, 8443, Verdict.ALLOW, "shop/checkout-may-charge", null, "POST", "/x"), 12);
        graph.record(new Observation(STOREFRONT, PAYMENTS, 8443, Verdict.DENY, "default", "shop/storefront-never-pays", "POST", "/x"), 4);
        graph.record(new Observation(PROMETHEUS, PAYMENTS, 9090, Verdict.ALLOW, "shop/scrape", null, "GET", "/metrics"), 2);
    }

    @AfterAll
    static void stop() {
        server.getApplicationContext().close();
    }

    static HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(server.getURI().resolve(path)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void apiGraphCarriesNodesEdgesAndCounters() throws Exception {
        var r = get("/api/graph");
        assertThat(r.statusCode()).isEqualTo(200);
        GraphJson g = json.readValue(r.body(), GraphJson.class);
        assertThat(g.namespaces()).containsExactly("monitoring", "shop");
        assertThat(g.nodes()).extracting(GraphJson.Node::id)
                .containsExactly("monitoring/prometheus-1", "shop/checkout-1", "shop/payments-1", "shop/storefront-1");
        assertThat(g.nodes()).filteredOn(n -> n.id().equals("shop/payments-1")).singleElement()
                .satisfies(n -> assertThat(n.segment()).isEqualTo("payments"));
        var denied = g.edges().stream().filter(e -> e.verdict().equals("DENY")).findFirst().orElseThrow();
        assertThat(denied.source()).isEqualTo("shop/storefront-1");
        assertThat(denied.target()).isEqualTo("shop/payments-1");
        assertThat(denied.decidedBy()).isEqualTo("default");
        assertThat(denied.wouldDenyBy()).isEqualTo("shop/storefront-never-pays");
        assertThat(denied.requests()).isEqualTo(4);
        assertThat(g.windowSeconds()).isEqualTo(900);
        assertThat(g.counters().recorded()).isGreaterThanOrEqualTo(18);
        // The raw JSON names fields the way the page reads them.
        assertThat(r.body()).contains("\"ratePerSecond\"", "\"wouldDenyBy\":\"shop/storefront-never-pays\"");
    }

    @Test
    void filtersByVerdictAndNamespace() throws Exception {
        GraphJson denied = json.readValue(get("/api/graph?verdict=DENY").body(), GraphJson.class);
        assertThat(denied.edges()).extracting(GraphJson.Edge::verdict).containsOnly("DENY");
        GraphJson would = json.readValue(get("/api/graph?verdict=WOULD_DENY").body(), GraphJson.class);
        assertThat(would.edges()).singleElement().satisfies(e -> assertThat(e.source()).isEqualTo("shop/storefront-1"));
        GraphJson monitoring = json.readValue(get("/api/graph?namespace=monitoring").body(), GraphJson.class);
        assertThat(monitoring.edges()).singleElement().satisfies(e -> assertThat(e.port()).isEqualTo(9090));
        // The edge's far end comes along, the rest of shop does not.
        assertThat(monitoring.nodes()).extracting(GraphJson.Node::id).containsExactly("monitoring/prometheus-1", "shop/payments-1");
    }

    @Test
    void pageAndCytoscapeAreServedFromTheClasspath() throws Exception {
        var page = get("/graph");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
        assertThat(page.body()).contains("/graph/cytoscape.min.js", "/graph/graph.js");
        var lib = get("/graph/cytoscape.min.js");
        assertThat(lib.statusCode()).isEqualTo(200);
        assertThat(lib.body()).contains("cytoscape").hasSizeGreaterThan(100_000);
        assertThat(get("/graph/graph.js").body()).contains("EventSource('/api/graph/events')");
        assertThat(get("/graph/..%2F..%2Fetc%2Fpasswd").statusCode()).isEqualTo(404);
    }

    @Test
    void eventsStreamPushesTheGraphAndThenChanges() throws Exception {
        HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(server.getURI().resolve("/api/graph/events"))
                .header("Accept", "text/event-stream").build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/event-stream"));
        try (var in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            GraphJson first = nextGraphEvent(in);
            assertThat(first.edges()).isNotEmpty();
            WorkloadRef newcomer = WorkloadRef.workload("shop", "fraud-1", "fraud");
            graph.record(new Observation(newcomer, PAYMENTS, 8443, Verdict.DENY, "shop/no-fraud", null, null, null));
            // Later events eventually carry the new edge (the first may have been sent before the record).
            GraphJson later;
            do {
                later = nextGraphEvent(in);
            } while (later.edges().stream().noneMatch(e -> e.source().equals("shop/fraud-1")));
            assertThat(later.edges()).filteredOn(e -> e.source().equals("shop/fraud-1")).singleElement()
                    .satisfies(e -> assertThat(e.decidedBy()).isEqualTo("shop/no-fraud"));
        }
    }

    /** Reads one SSE event named "graph"; fails the test (via timeout) rather than hang forever. */
    private static GraphJson nextGraphEvent(BufferedReader in) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try {
                String event = null;
                StringBuilder data = new StringBuilder();
                for (String line; (line = in.readLine()) != null; ) {
                    if (line.startsWith("event:")) {
                        event = line.substring(6).trim();
                    } else if (line.startsWith("data:")) {
                        data.append(line.substring(5).trim());
                    } else if (line.isEmpty() && data.length() > 0) {
                        if ("graph".equals(event)) {
                            return json.readValue(data.toString(), GraphJson.class);
                        }
                        event = null;
                        data.setLength(0);
                    }
                }
                throw new IllegalStateException("event stream ended");
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).get(60, TimeUnit.SECONDS);
    }
}
