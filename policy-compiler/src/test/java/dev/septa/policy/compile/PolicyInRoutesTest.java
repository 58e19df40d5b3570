package dev.septa.policy.compile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.policy.check.Checker;
import dev.septa.policy.check.Query;
import dev.septa.policy.parse.InputFile;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Decision 0009: an intent edit or a quarantine changes the inbound routes, never a gRPC server listener nor an Envoy
 * HTTP filter chain, so it reaches the connections the proxies already have (a changed Listener or chain is drained).
 * Each case compiles the same mesh twice, with and without the change, and checks that the decision did change.
 */
class PolicyInRoutesTest {
    static final Path SHOP = Path.of("../examples/shop");

    static CompiledMesh compile(List<InputFile> inputs) {
        CompileResult r = PolicyCompiler.compile(inputs);
        assertThat(r.mesh()).as("compiles: %s", r.diagnostics()).isPresent();
        return r.mesh().orElseThrow();
    }

    /**
     * Per proxy, its inbound side: its gRPC server listeners and the HTTP filter chains of its Envoy inbound listener
     * (TCP chains carry network RBAC). Client-side listeners follow what a workload may reach, which an edit can change.
     */
    static Map<String, List<Object>> listenerSide(CompiledMesh m) {
        Map<String, List<Object>> out = new TreeMap<>();
        m.proxies().forEach((id, p) -> {
            List<Object> side = new ArrayList<>(p.grpc().listeners().stream()
                    .filter(l -> l.getName().startsWith(Checker.GRPC_SERVER_PREFIX)).toList());
            for (Listener l : p.envoy().listeners().stream().filter(l -> l.getName().equals(Checker.INBOUND_LISTENER)).toList()) {
                for (FilterChain c : l.getFilterChainsList()) {
                    if (c.getFiltersList().stream().anyMatch(f -> f.getName().equals("envoy.filters.network.http_connection_manager"))) {
                        side.add(c);
                    }
                }
            }
            out.put(id, side);
        });
        return out;
    }

    static Map<String, List<RouteConfiguration>> routes(CompiledMesh m) {
        Map<String, List<RouteConfiguration>> out = new TreeMap<>();
        m.proxies().forEach((id, p) -> {
            List<RouteConfiguration> r = new ArrayList<>(p.grpc().routes());
            r.addAll(p.envoy().routes());
            out.put(id, r);
        });
        return out;
    }

    @Test
    void anIntentEditChangesRoutesOnly() {
        List<InputFile> inputs = TestInputs.load(SHOP);
        List<InputFile> edited = inputs.stream().map(f -> !f.name().endsWith("intents.yaml") ? f
                : new InputFile(f.name(), f.text().replace("name: storefront-may-checkout", "name: storefront-may-checkout-x")
                        .replace("action: Allow", "action: Deny"))).toList();
        assertThat(edited).isNotEqualTo(inputs);
        CompiledMesh before = compile(inputs);
        CompiledMesh after = compile(edited);
        Query q = new Query("shop/storefront-1", "shop/checkout-1", 8443, "POST", "/shop.Checkout/PlaceOrder");
        for (Dialect d : Dialect.values()) {
            assertThat(new Checker(before, d).check(q).allowed()).as("%s before", d).isTrue();
            assertThat(new Checker(after, d).check(q).allowed()).as("%s after", d).isFalse();
        }
        assertThat(routes(after)).isNotEqualTo(routes(before));
        assertThat(listenerSide(before).values().stream().mapToInt(List::size).sum()).isGreaterThan(8);
        assertThat(listenerSide(after)).isEqualTo(listenerSide(before));
    }

    @Test
    void aQuarantineChangesRoutesAndTcpChainsOnly() {
        Path dir = Path.of("src/test/resources/golden/quarantine/input");
        List<InputFile> with = TestInputs.load(dir);
        List<InputFile> without = with.stream().filter(f -> !f.name().equals("quarantine.yaml")).toList();
        assertThat(without).hasSize(with.size() - 1);
        CompiledMesh free = compile(without);
        CompiledMesh quarantined = compile(with);
        Query q = Query.of("data/batch-1", "data/api-1", 8080);
        Query out = Query.of("data/api-1", "data/db-1", 5432);
        for (Dialect d : Dialect.values()) {
            assertThat(new Checker(quarantined, d).check(Query.of("data/api-1", "data/api-1", 8080)).by())
                    .as("%s", d).startsWith("quarantine:");
            assertThat(new Checker(quarantined, d).check(q).allowed()).as("%s forensics", d).isTrue();
            assertThat(new Checker(free, d).check(out).allowed()).as("%s before", d)
                    .isNotEqualTo(new Checker(quarantined, d).check(out).allowed());
        }
        assertThat(routes(quarantined)).isNotEqualTo(routes(free));
        assertThat(listenerSide(quarantined)).isEqualTo(listenerSide(free));
    }
}
