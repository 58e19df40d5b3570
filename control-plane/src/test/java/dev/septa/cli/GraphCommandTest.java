package dev.septa.cli;

import dev.septa.controlplane.support.SeptaRun;
import dev.septa.controlplane.graph.Observation;
import dev.septa.controlplane.graph.TrafficGraph;
import dev.septa.controlplane.graph.Verdict;
import dev.septa.controlplane.graph.WorkloadRef;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code septa graph} against the graph API on Micronaut's embedded server. */
class GraphCommandTest {
    static EmbeddedServer server;

    @BeforeAll
    static void start() {
        ApplicationContext ctx = ApplicationContext.run(Map.of("micronaut.server.host", "127.0.0.1", "micronaut.server.port", -1));
        server = ctx.getBean(EmbeddedServer.class).start();
        TrafficGraph g = ctx.getBean(TrafficGraph.class);
        var storefront = WorkloadRef.workload("shop", "storefront-1", "storefront");
        var checkout = WorkloadRef.workload("shop", "checkout-1", "checkout");
        var payments = WorkloadRef.workload("shop", "payments-1", "payments");
        g.record(new Observation(checkout, payments, 8443, Verdict.ALLOW, "shop/checkout-may-charge", null, null, null), 30);
        g.record(new Observation(storefront, payments, 8443, Verdict.DENY, "default", "shop/storefront-never-pays", null, null), 7);
    }

    @AfterAll
    static void stop() {
        server.getApplicationContext().close();
    }


    static SeptaRun run(String... args) {
        return SeptaRun.of(args);
    }

    @Test
    void printsEdgesWithVerdictsAndIntents() {
        SeptaRun r = run("graph", "--server", server.getURI().toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("3 workloads, 2 edges (1 denied)");
        String[] lines = r.out().split("\n");
        assertThat(lines[1]).startsWith("FROM").contains("DECIDED BY");
        // Busiest first.
        assertThat(lines[2]).contains("shop/checkout-1", "shop/payments-1", "8443", "ALLOW", "30", "shop/checkout-may-charge");
        assertThat(lines[3]).contains("shop/storefront-1", "DENY", "default", "shop/storefront-never-pays");
    }

    @Test
    void filtersAndJson() {
        SeptaRun denied = run("graph", "--server", server.getURI().toString(), "--verdict", "deny");
        assertThat(denied.out()).contains("shop/storefront-1").doesNotContain("shop/checkout-may-charge");
        SeptaRun json = run("graph", "--server", server.getURI().toString(), "-o", "json", "-n", "shop");
        assertThat(json.exit()).isZero();
        assertThat(json.out().trim()).startsWith("{").contains("\"edges\"", "\"wouldDenyBy\":\"shop/storefront-never-pays\"");
    }

    @Test
    void badInputExitsTwoAndAnAbsentServerExitsOneWithAHint() throws Exception {
        assertThat(run("graph", "--verdict", "MAYBE").exit()).isEqualTo(2);
        assertThat(run("graph", "--server", "not a url").exit()).isEqualTo(2);
        int free;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            free = s.getLocalPort();
        }
        SeptaRun r = run("graph", "--server", "http://127.0.0.1:" + free);
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("cannot connect").contains("septa serve");
        assertThat(r.err()).doesNotContain("Exception");
    }
}
