package dev.septa.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.controlplane.graph.GraphJson;
import dev.septa.controlplane.support.SeptaRun;
import io.micronaut.json.JsonMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code septa recommend} then {@code septa check --impact} on the same observed graph: the recommendation changes no
 * observed verdict. The shop graphs are {@code GET /api/graph} of a real {@code ./septa demo} run (saved as they were);
 * the demo's recommendation is a golden file ({@code -Dsepta.golden.update=true} rewrites it).
 */
class RecommendCommandTest {
    static final Path INVENTORY = Path.of("..", "examples", "shop", "inventory.yaml");
    static final Path RESOURCES = Path.of("src", "test", "resources", "recommend");

    @TempDir
    Path dir;

    static GraphJson.Edge edge(String from, String to, int port, String verdict, long calls, String... samples) {
        return new GraphJson.Edge(from + ">" + to + ":" + port + "/" + verdict, from, to, port, verdict, null, null, calls, 0.1,
                "2026-01-01T00:00:00Z", List.of(samples));
    }

    static Path write(Path file, List<GraphJson.Edge> edges) throws Exception {
        var graph = new GraphJson("2026-01-01T00:15:00Z", 900, 1, List.of("shop"), List.of(), edges,
                new GraphJson.Counters(0, 0, 0, 0, 0, 0));
        Files.writeString(file, JsonMapper.createDefault().writeValueAsString(graph));
        return file;
    }

    static SeptaRun recommend(Path graph, Path inventory, Path out, String... more) {
        var args = new java.util.ArrayList<>(List.of("recommend", "-f", inventory.toString(), "--graph", graph.toString()));
        if (out != null) {
            args.addAll(List.of("-o", out.toString()));
        }
        args.addAll(List.of(more));
        return CheckCommandTest.run(args.toArray(String[]::new));
    }

    static SeptaRun impact(Path proposed, Path inventory, Path graph) {
        return CheckCommandTest.run("check", "--impact", "-f", proposed.toString(), inventory.toString(), "--graph", graph.toString());
    }

    @Test
    void shopDemoRecommendationIsGoldenAndItsImpactIsZero() throws Exception {
        Path graph = RESOURCES.resolve("shop-demo-graph.json");
        Path out = dir.resolve("recommended");
        var r = recommend(graph, INVENTORY, out);
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        String actual = r.out().replace(out.toString(), "OUT") + "=== segments.yaml\n" + Files.readString(out.resolve("segments.yaml"))
                + "=== intents.yaml\n" + Files.readString(out.resolve("intents.yaml"));
        Golden.assertMatches(RESOURCES.resolve("shop-demo.golden.txt"), actual);

        var validate = CheckCommandTest.run("validate", "-f", out.toString(), INVENTORY.toString());
        assertThat(validate.exit()).as(validate.out() + validate.err()).isZero();
        var check = impact(out, INVENTORY, graph);
        assertThat(check.err()).contains(": 0 newly denied, 0 newly allowed");
        assertThat(check.out()).isEmpty();
        assertThat(check.exit()).isZero();
        for (String dialect : List.of("envoy", "grpc")) {
            var d = CheckCommandTest.run("check", "--impact", "--dialect", dialect, "-f", out.toString(), INVENTORY.toString(),
                    "--graph", graph.toString());
            assertThat(d.exit()).as(dialect + d.out() + d.err()).isZero();
        }
        // The policy in force denied prometheus the catalog's own methods: the recommendation keeps them denied.
        String probe = java.util.Arrays.stream(Files.readString(out.resolve("intents.yaml")).split("---\n"))
                .filter(doc -> doc.contains("name: monitoring-prometheus-to-catalog,")).findFirst().orElseThrow();
        assertThat(probe).contains("paths: [\"/grpc.health.v1.Health/Check\"]").doesNotContain("/shop.Catalog");

        // --exact: the same intents with exact paths, no prefix, nothing widened.
        var exact = recommend(graph, INVENTORY, dir.resolve("exact"), "--exact");
        assertThat(exact.exit()).as(exact.out() + exact.err()).isZero();
        assertThat(exact.out()).doesNotContain("widened:").contains("0 newly denied, 0 newly allowed");
        assertThat(Files.readString(dir.resolve("exact").resolve("intents.yaml"))).doesNotContain("*\"")
                .contains("paths: [\"/shop.Payments/Charge\", \"/shop.Payments/Refund\"]");
        assertThat(impact(dir.resolve("exact"), INVENTORY, graph).err()).contains(": 0 newly denied, 0 newly allowed");
    }

    @Test
    void callsSeenBothAllowedAndDeniedAreKeptDeniedAndReported() throws Exception {
        // Saved seconds after the demo started: a few calls were served before the workloads had their RBAC.
        Path graph = RESOURCES.resolve("shop-demo-startup-graph.json");
        Path out = dir.resolve("recommended");
        var r = recommend(graph, INVENTORY, out);
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("  contradictory: monitoring/prometheus-1 -> shop/catalog-2:9090 POST /shop.Catalog/Update "
                + "allowed 1 and denied 184 calls in the window");
        assertThat(r.out()).contains("self-check (septa check --impact on 25 observed edges): 3 newly denied, 0 newly allowed "
                + "(as meant: 3 edges with contradictory calls kept denied)");
        var check = impact(out, INVENTORY, graph);
        // Exactly those contradictory calls change, and nothing observed denied becomes allowed.
        assertThat(check.err()).contains(": 3 newly denied, 0 newly allowed");
        assertThat(check.out().lines()).allMatch(l -> l.startsWith("NEWLY DENIED  monitoring/prometheus-1 ") && l.contains("(1 calls"));
    }

    @Test
    void labelsThatCannotTellReplicasApartPrintTheWideningAndExactRefuses() throws Exception {
        // Only catalog-1 was seen from the storefront; catalog-2 has the same labels, so any segment selects both.
        Path graph = write(dir.resolve("graph.json"), List.of(
                edge("shop/storefront-1", "shop/catalog-1", 9090, "ALLOW", 40, "POST /shop.Catalog/List"),
                edge("shop/checkout-1", "shop/catalog-1", 9090, "ALLOW", 30, "POST /shop.Catalog/List", "POST /shop.Catalog/Get"),
                edge("shop/checkout-1", "shop/catalog-2", 9090, "ALLOW", 30, "POST /shop.Catalog/List", "POST /shop.Catalog/Get"),
                edge("shop/storefront-1", "shop/payments-1", 8443, "DENY", 3, "POST /shop.Payments/Charge")));
        var r = recommend(graph, INVENTORY, dir.resolve("out"));
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.out().lines().filter(l -> l.startsWith("  widened: ")).toList()).containsExactly(
                "  widened: shop/checkout-1 -> shop/catalog-1:9090: prefix /shop.Catalog/* admits paths never observed "
                        + "(folded from [/shop.Catalog/Get, /shop.Catalog/List])",
                "  widened: shop/checkout-1 -> shop/catalog-2:9090: prefix /shop.Catalog/* admits paths never observed "
                        + "(folded from [/shop.Catalog/Get, /shop.Catalog/List])",
                "  widened: shop/storefront-1 -> shop/catalog-2:9090: never observed; segments shop/storefront [shop/storefront-1] "
                        + "-> shop/catalog [shop/catalog-1, shop/catalog-2] cannot tell these workloads apart (equal labels)");
        assertThat(impact(dir.resolve("out"), INVENTORY, graph).err()).contains(": 0 newly denied, 0 newly allowed");

        Path exactOut = dir.resolve("exact");
        var exact = recommend(graph, INVENTORY, exactOut, "--exact");
        assertThat(exact.exit()).as(exact.out() + exact.err()).isEqualTo(1);
        assertThat(exact.out()).contains("refused, nothing written: --exact")
                .contains("  widened: shop/storefront-1 -> shop/catalog-2:9090: never observed")
                .doesNotContain("prefix");
        assertThat(exactOut).doesNotExist();
    }

    @Test
    void aSharedIdentityThatWouldAllowAnObservedDeniedCallIsRefusedUnlessAccepted() throws Exception {
        Path inventory = Files.writeString(dir.resolve("inventory.yaml"), """
                apiVersion: septa.dev/v1alpha1
                kind: Workload
                metadata: {name: a-1, namespace: t, labels: {app: a}}
                spec: {serviceAccount: shared, address: 127.0.9.1, ports: [{name: http, port: 8080, protocol: HTTP}]}
                ---
                apiVersion: septa.dev/v1alpha1
                kind: Workload
                metadata: {name: b-1, namespace: t, labels: {app: b}}
                spec: {serviceAccount: shared, address: 127.0.9.2, ports: [{name: http, port: 8080, protocol: HTTP}]}
                ---
                apiVersion: septa.dev/v1alpha1
                kind: Workload
                metadata: {name: c-1, namespace: t, labels: {app: c}}
                spec: {serviceAccount: c, address: 127.0.9.3, ports: [{name: http, port: 8080, protocol: HTTP}]}
                """);
        Path graph = write(dir.resolve("graph.json"), List.of(
                edge("t/a-1", "t/c-1", 8080, "ALLOW", 50, "GET /orders"),
                edge("t/b-1", "t/c-1", 8080, "DENY", 7, "GET /orders")));
        var refused = recommend(graph, inventory, dir.resolve("out"));
        assertThat(refused.exit()).as(refused.out() + refused.err()).isEqualTo(1);
        assertThat(refused.out()).contains("  widened: t/b-1 -> t/c-1:8080: never observed; t/b-1 shares an identity with segment t/a")
                .contains("  would newly allow: t/b-1 -> t/c-1:8080 GET /orders (7 calls in the window; ALLOW by t/a-to-c)")
                .contains("self-check (septa check --impact on 2 observed edges): 0 newly denied, 1 newly allowed")
                .contains("refused, nothing written");
        assertThat(dir.resolve("out")).doesNotExist();

        var accepted = recommend(graph, inventory, dir.resolve("out"), "--allow-widening");
        assertThat(accepted.exit()).as(accepted.out() + accepted.err()).isZero();
        assertThat(impact(dir.resolve("out"), inventory, graph).err()).contains(": 0 newly denied, 1 newly allowed");
    }

    @Test
    void rareIntentsAreMarked() throws Exception {
        Path graph = write(dir.resolve("graph.json"), List.of(
                edge("shop/checkout-1", "shop/payments-1", 8443, "ALLOW", 3, "POST /shop.Payments/Refund")));
        var r = recommend(graph, INVENTORY, null);
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).contains("intent shop/checkout-to-payments: built from 3 calls on 1 observed edges  RARE (fewer than 10 calls");
        assertThat(r.out()).contains("# RARE: fewer than 10 calls in the window").contains("paths: [\"/shop.Payments/Refund\"]")
                .contains("methods: [POST]");
    }

    @Test
    void includeDeniedAllowsTheDeniedCallsTooAndFullSamplesAreReported() throws Exception {
        String[] eight = java.util.stream.IntStream.range(0, 8).mapToObj(i -> "POST /shop.Catalog/M" + i).toArray(String[]::new);
        Path graph = write(dir.resolve("graph.json"), List.of(
                edge("shop/storefront-1", "shop/payments-1", 8443, "DENY", 12, "POST /shop.Payments/Charge"),
                edge("shop/checkout-1", "shop/catalog-1", 9090, "ALLOW", 80, eight)));
        Path out = dir.resolve("out");
        var r = recommend(graph, INVENTORY, out, "--include-denied");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("1 denied edges allowed too (--include-denied)")
                .contains("samples incomplete: shop/checkout-1 -> shop/catalog-1:9090: the graph keeps 8 requests per edge")
                .contains("self-check (septa check --impact on 2 observed edges): 0 newly denied, 1 newly allowed "
                        + "(as meant: 1 denied edges allowed by --include-denied)");
        assertThat(Files.readString(out.resolve("intents.yaml"))).contains("name: storefront-to-payments,");
        assertThat(impact(out, INVENTORY, graph).out()).startsWith("NEWLY ALLOWED shop/storefront-1 -> shop/payments-1:8443");
    }

    @Test
    void badGraphFileIsAClearError() throws Exception {
        Path graph = Files.writeString(dir.resolve("graph.json"), "{not json");
        var r = recommend(graph, INVENTORY, null);
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("graph.json: not a traffic graph").doesNotContain("\tat ");
    }
}
