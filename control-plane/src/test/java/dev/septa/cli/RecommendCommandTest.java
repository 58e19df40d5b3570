package dev.septa.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.controlplane.graph.GraphJson;
import dev.septa.policy.check.Checker;
import dev.septa.policy.check.Query;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.Dialect;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.model.Workload;
import dev.septa.policy.model.WorkloadPort;
import io.micronaut.json.JsonMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code septa recommend} on observed shop traffic, then the recommendation compiled and checked by the
 * {@code septa check} evaluator: every observed edge allowed, every other (source, destination, port) denied,
 * except the pairs the command itself reports as widened.
 */
class RecommendCommandTest {
    static final Path INVENTORY = Path.of("..", "examples", "shop", "inventory.yaml");

    @TempDir
    Path dir;

    static GraphJson.Edge edge(String from, String to, int port, String verdict) {
        return new GraphJson.Edge(from + ">" + to, from, to, port, verdict, null, null, 5, 0.1, "2026-01-01T00:00:00Z");
    }

    static Path write(Path file, List<GraphJson.Edge> edges) throws Exception {
        var graph = new GraphJson("2026-01-01T00:00:00Z", 900, 1, List.of("shop"), List.of(), edges,
                new GraphJson.Counters(0, 0, 0, 0, 0, 0));
        Files.writeString(file, JsonMapper.createDefault().writeValueAsString(graph));
        return file;
    }

    @Test
    void recommendationAllowsExactlyTheObservedTrafficAndFlagsWidening() throws Exception {
        List<GraphJson.Edge> observed = List.of(
                edge("shop/storefront-1", "shop/checkout-1", 8443, "ALLOW"),
                edge("shop/checkout-1", "shop/payments-1", 8443, "ALLOW"),
                edge("shop/checkout-1", "shop/catalog-1", 9090, "ALLOW"),
                edge("shop/checkout-1", "shop/catalog-2", 9090, "ALLOW"),
                edge("monitoring/prometheus-1", "shop/payments-1", 8443, "ALLOW"),
                edge("monitoring/prometheus-1", "shop/checkout-1", 8443, "ALLOW"),
                // only one catalog replica seen from the storefront: the segment 'catalog' must widen to catalog-2
                edge("shop/storefront-1", "shop/catalog-1", 9090, "ALLOW"),
                // denied by the policy in force: left out by default
                edge("shop/storefront-1", "shop/payments-1", 8443, "DENY"),
                // a caller outside the inventory: no segment can name it
                edge("10.1.2.3", "shop/catalog-1", 9090, "ALLOW"));
        Path graph = write(dir.resolve("graph.json"), observed);
        Path out = dir.resolve("recommended");

        var r = CheckCommandTest.run("recommend", "-f", INVENTORY.toString(), "--graph", graph.toString(), "-o", out.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("7 observed edges -> 5 segments")
                .contains("1 denied edges left out")
                .contains("widened: shop/storefront-1 -> shop/catalog-2:9090")
                .contains("not expressible: 10.1.2.3 -> shop/catalog-1:9090");
        assertThat(Files.readString(out.resolve("segments.yaml"))).contains("matchLabels: {app: payments}");

        // Valid for septa validate, and compiles with the inventory.
        var validate = CheckCommandTest.run("validate", "-f", out.toString(), INVENTORY.toString());
        assertThat(validate.exit()).as(validate.out() + validate.err()).isZero();
        var inputs = PolicyFiles.read(List.of(out, INVENTORY));
        CompiledMesh compiled = PolicyCompiler.compile(inputs).mesh().orElseThrow();

        Set<String> allowedExpected = new TreeSet<>();
        observed.stream().filter(e -> e.verdict().equals("ALLOW") && !e.source().startsWith("10."))
                .forEach(e -> allowedExpected.add(e.source() + " -> " + e.target() + ":" + e.port()));
        allowedExpected.add("shop/storefront-1 -> shop/catalog-2:9090"); // the one reported widening

        for (Dialect dialect : Dialect.values()) {
            Checker checker = new Checker(compiled, dialect);
            Set<String> allowed = new TreeSet<>();
            List<Workload> workloads = compiled.mesh().workloads();
            for (Workload from : workloads) {
                for (Workload to : workloads) {
                    for (WorkloadPort p : to.ports()) {
                        if (checker.check(Query.of(from.id(), to.id(), p.port())).allowed()) {
                            allowed.add(from.id() + " -> " + to.id() + ":" + p.port());
                        }
                    }
                }
            }
            assertThat(allowed).as(dialect.name()).isEqualTo(allowedExpected);
        }
    }

    @Test
    void includeDeniedAllowsTheDeniedCallsToo() throws Exception {
        Path graph = write(dir.resolve("graph.json"), List.of(edge("shop/storefront-1", "shop/payments-1", 8443, "DENY")));
        var r = CheckCommandTest.run("recommend", "-f", INVENTORY.toString(), "--graph", graph.toString(), "--include-denied");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("kind: Intent").contains("name: allow-to-payments").contains("- segment: storefront");
    }

    @Test
    void badGraphFileIsAClearError() throws Exception {
        Path graph = Files.writeString(dir.resolve("graph.json"), "{not json");
        var r = CheckCommandTest.run("recommend", "-f", INVENTORY.toString(), "--graph", graph.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("graph.json: not a traffic graph").doesNotContain("\tat ");
    }
}
