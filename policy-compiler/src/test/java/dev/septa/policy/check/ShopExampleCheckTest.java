package dev.septa.policy.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.Dialect;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.model.Workload;
import dev.septa.policy.parse.InputFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The bundled example, exhaustively: every source, destination, port, method and path of a small grid, decided
 * by the compiled Envoy RBAC, by the compiled proxyless gRPC RBAC, and by the oracle, and all three agree.
 */
class ShopExampleCheckTest {
    static CompiledMesh shop;

    @BeforeAll
    static void compile() throws IOException {
        var inputs = new ArrayList<InputFile>();
        try (Stream<Path> files = Files.walk(Path.of("..", "examples", "shop"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                inputs.add(new InputFile(f.toString(), Files.readString(f)));
            }
        }
        CompileResult result = PolicyCompiler.compile(inputs);
        assertThat(result.hasErrors()).as("%s", result.diagnostics()).isFalse();
        shop = result.mesh().orElseThrow();
    }

    @Test
    void envoyGrpcAndTheDesignAgreeOnEveryQueryOfTheGrid() {
        Checker envoy = new Checker(shop, Dialect.ENVOY);
        Checker grpc = new Checker(shop, Dialect.GRPC);
        ReferenceDecision oracle = new ReferenceDecision(shop.mesh());
        List<String> methods = Arrays.asList(null, "GET", "POST");
        List<String> paths = Arrays.asList(null, "/shop.Payments/Charge", "/shop.Payments/RefundAll",
                "/shop.Catalog/List", "/shop.Catalog/UpdateItem", "/shop.Checkout/PlaceOrder",
                "/grpc.health.v1.Health/Check", "/other");
        int compared = 0;
        int viaGrpc = 0;
        for (Workload from : shop.mesh().workloads()) {
            for (Workload to : shop.mesh().workloads()) {
                for (int port : new int[] {8080, 8443, 9090, 9091, 12345}) {
                    for (String m : methods) {
                        for (String p : paths) {
                            Query q = new Query(from.id(), to.id(), port, m, p);
                            Decision d = envoy.check(q);
                            assertThat(d).as("%s", q).isEqualTo(oracle.decide(q));
                            if (grpc.accepts(q.to(), q.port())) {
                                assertThat(grpc.check(q)).as("gRPC dialect, %s", q).isEqualTo(d);
                                viaGrpc++;
                            }
                            compared++;
                        }
                    }
                }
            }
        }
        assertThat(compared).isGreaterThan(4_000);
        assertThat(viaGrpc).isGreaterThan(500);
    }

    @Test
    void theExamplesStory() {
        Checker c = new Checker(shop);
        assertThat(c.check(new Query("shop/checkout-1", "shop/payments-1", 8443, "POST", "/shop.Payments/Charge")))
                .isEqualTo(new Decision(Decision.Verdict.ALLOW, "shop/checkout-may-charge", Optional.empty()));
        assertThat(c.check(new Query("shop/storefront-1", "shop/payments-1", 8443, "POST", "/shop.Payments/Charge")))
                .isEqualTo(new Decision(Decision.Verdict.DENY, "shop/storefront-never-pays", Optional.empty()));
        assertThat(c.check(new Query("shop/checkout-1", "shop/catalog-2", 9090, "POST", "/shop.Catalog/UpdateItem")))
                .isEqualTo(new Decision(Decision.Verdict.ALLOW, "shop/checkout-may-read-catalog",
                        Optional.of("shop/lock-catalog-writes")));
        assertThat(c.check(new Query("monitoring/prometheus-1", "shop/payments-1", 8443, "GET",
                "/grpc.health.v1.Health/Check")))
                .isEqualTo(new Decision(Decision.Verdict.ALLOW, "shop/monitoring-may-probe", Optional.empty()));
        assertThat(c.check(new Query("monitoring/prometheus-1", "shop/payments-1", 8443, "POST",
                "/shop.Payments/Charge")).allowed()).isFalse();
    }
}
