package dev.septa.policy.ir;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.compile.TestInputs;
import dev.septa.policy.model.Action;
import dev.septa.policy.model.Mode;
import dev.septa.policy.parse.MeshParser;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The intermediate form, checked on meaning rather than text. */
class IntentLoweringTest {

    private static Map<String, WorkloadPlan> plans(String goldenCase) {
        Path in = TestInputs.inputDir(Path.of("src/test/resources/golden").resolve(goldenCase));
        MeshPlan plan = PolicyCompiler.plan(MeshParser.parse(TestInputs.load(in)).mesh());
        return plan.workloads().stream().collect(Collectors.toMap(w -> w.workload().id(), w -> w));
    }

    @Test
    void shopPaymentsHasDenyBeforeAllowAndRulesNamedByIntent() {
        WorkloadPlan payments = plans("shop").get("shop/payments-1");
        InboundPort p8443 = payments.ports().stream().filter(p -> p.port() == 8443).findFirst().orElseThrow();
        assertThat(p8443.rules()).extracting(InboundRule::policy)
                .containsExactly("shop/checkout-may-charge", "shop/monitoring-may-probe", "shop/storefront-never-pays");
        InboundRule deny = p8443.rules().get(2);
        assertThat(deny.action()).isEqualTo(Action.DENY);
        assertThat(deny.principals()).containsExactly(new SourcePrincipal("spiffe://cluster.local/ns/shop/sa/storefront", false));
        assertThat(p8443.openByDefault()).isFalse();
        // Deny without ports covers every port, including the default chain.
        assertThat(payments.otherPorts().rules()).extracting(InboundRule::policy).containsExactly("shop/storefront-never-pays");
    }

    @Test
    void egressIsScopedToAllowedServices() {
        Map<String, WorkloadPlan> plans = plans("shop");
        assertThat(plans.get("shop/checkout-1").reachable()).extracting(ServicePort::clusterName)
                .containsExactly("outbound|8443||payments.shop", "outbound|9090||catalog.shop");
        assertThat(plans.get("shop/payments-1").reachable()).isEmpty();
        assertThat(plans.get("monitoring/prometheus-1").reachable()).extracting(ServicePort::clusterName)
                .contains("outbound|8443||payments.shop", "outbound|8080||storefront.shop");
    }

    @Test
    void defaultAllowLeavesOnlyUntargetedPortsOpen() {
        WorkloadPlan admin = plans("default-allow").get("web/admin-1");
        assertThat(admin.ports()).extracting(InboundPort::port, InboundPort::openByDefault)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(8080, false), org.assertj.core.groups.Tuple.tuple(9000, true));
        assertThat(admin.otherPorts().openByDefault()).isTrue();
    }

    @Test
    void dryRunRulesAreKeptButMarked() {
        InboundPort port = plans("paths-and-dryrun").get("api/orders-1").ports().getFirst();
        assertThat(port.rules()).filteredOn(r -> r.mode() == Mode.DRY_RUN).extracting(InboundRule::policy)
                .containsExactly("api/audit-may-read", "api/client-no-delete");
    }

    @Test
    void namespaceSourcesArePrefixes() {
        InboundPort port = plans("cross-namespace").get("pay/ledger-1").ports().getFirst();
        InboundRule rule = port.rules().stream().filter(r -> r.policy().equals("pay/invoicer-may-post")).findFirst().orElseThrow();
        assertThat(rule.principals()).containsExactly(
                new SourcePrincipal("spiffe://cluster.local/ns/billing/sa/invoicer", false),
                new SourcePrincipal("spiffe://cluster.local/ns/ops/sa/", true));
    }
}
