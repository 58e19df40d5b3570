package dev.septa.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.controlplane.graph.GraphJson;
import dev.septa.controlplane.graph.Observation;
import dev.septa.controlplane.graph.TrafficGraph;
import dev.septa.controlplane.graph.Verdict;
import dev.septa.controlplane.graph.WorkloadRef;
import io.micronaut.json.JsonMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code septa check --impact} on a graph recorded by the real {@link TrafficGraph} (with its request samples) and a
 * proposed change of the shop's intents.
 */
class ImpactCommandTest {
    static final Path SHOP = Path.of("..", "examples", "shop");

    @TempDir
    Path dir;
    Path graphFile;
    Path proposed;

    static WorkloadRef w(String name) {
        return WorkloadRef.workload("shop", name, null);
    }

    @BeforeEach
    void observe() throws Exception {
        TrafficGraph graph = new TrafficGraph();
        graph.record(new Observation(w("checkout-1"), w("payments-1"), 8443, Verdict.ALLOW, "shop/checkout-may-charge", null,
                "POST", "/shop.Payments/Charge?trace=1"), 40);
        graph.record(new Observation(w("storefront-1"), w("payments-1"), 8443, Verdict.DENY, "shop/storefront-never-pays", null,
                "POST", "/shop.Payments/Charge"), 3);
        graph.record(new Observation(w("storefront-1"), w("catalog-1"), 9090, Verdict.ALLOW, "shop/storefront-may-browse", null,
                "POST", "/shop.Catalog/List"), 100);
        GraphJson json = GraphJson.from(graph.snapshot(), List.of(), GraphJson.Filter.ALL);
        assertThat(json.edges()).anySatisfy(e -> assertThat(e.samples()).containsExactly("POST /shop.Payments/Charge"));
        graphFile = Files.writeString(dir.resolve("graph.json"), JsonMapper.createDefault().writeValueAsString(json));

        proposed = Files.createDirectories(dir.resolve("proposed"));
        try (var files = Files.list(SHOP.resolve("intents"))) {
            for (Path f : files.toList()) {
                Files.copy(f, proposed.resolve(f.getFileName()));
            }
        }
    }

    static dev.septa.controlplane.support.SeptaRun impact(Path proposed, Path graph) {
        return CheckCommandTest.run("check", "--impact", "-f", proposed.toString(), SHOP.resolve("inventory.yaml").toString(),
                "--graph", graph.toString());
    }

    @Test
    void unchangedIntentsChangeNothingEvenOnPathScopedEdges() {
        var r = impact(proposed, graphFile);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains("3 observed edges evaluated: 0 newly denied, 0 newly allowed");
        assertThat(r.exit()).isZero();
    }

    @Test
    void namesTheEdgesAChangeWouldNewlyDenyAndNewlyAllow() throws Exception {
        Path intents = proposed.resolve("intents.yaml");
        // Drop checkout-may-charge; let the storefront pay (the Deny becomes DryRun, a new Allow).
        String kept = Arrays.stream(Files.readString(intents).split("\n---\n"))
                .filter(doc -> !doc.contains("name: checkout-may-charge,")).collect(Collectors.joining("\n---\n"));
        String deny = "metadata: {name: storefront-never-pays, namespace: shop}\nspec:\n  action: Deny\n";
        assertThat(kept).contains(deny);
        Files.writeString(intents, kept.replace(deny, deny + "  mode: DryRun\n") + """

                ---
                apiVersion: septa.dev/v1alpha1
                kind: Intent
                metadata: {name: storefront-may-pay, namespace: shop}
                spec:
                  action: Allow
                  from: [{segment: storefront}]
                  to: {segment: payments, ports: [{port: 8443, protocol: GRPC}]}
                """);
        var r = impact(proposed, graphFile);
        assertThat(r.out().lines().toList()).containsExactly(
                "NEWLY DENIED  shop/checkout-1 -> shop/payments-1:8443 POST /shop.Payments/Charge  (40 calls in the window; "
                        + "was allowed by shop/checkout-may-charge, now DENY default)",
                "NEWLY ALLOWED shop/storefront-1 -> shop/payments-1:8443 POST /shop.Payments/Charge  (3 calls in the window; "
                        + "was denied by shop/storefront-never-pays, now ALLOW shop/storefront-may-pay)");
        assertThat(r.err()).contains("1 newly denied, 1 newly allowed");
        assertThat(r.exit()).isEqualTo(1);
    }

    @Test
    void impactWithoutAGraphSourceOrWithQueriesIsBadInput() {
        var r = CheckCommandTest.run("check", "--impact", "-f", proposed.toString(), "--graph", graphFile.toString(),
                "--from", "shop/checkout-1");
        assertThat(r.exit()).isEqualTo(2);
        var missing = CheckCommandTest.run("check", "--impact", "-f", proposed.toString(), "--graph", dir.resolve("nope.json").toString());
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("nope.json").doesNotContain("\tat ");
    }
}
