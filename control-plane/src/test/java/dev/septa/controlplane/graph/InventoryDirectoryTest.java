package dev.septa.controlplane.graph;

import dev.septa.policy.model.LabelSelector;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.MeshConfig;
import dev.septa.policy.model.ObjectMeta;
import dev.septa.policy.model.Segment;
import dev.septa.policy.model.SelectorRequirement;
import dev.septa.policy.model.Source;
import dev.septa.policy.model.Workload;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class InventoryDirectoryTest {
    static Workload w(String ns, String name, String sa, String address) {
        return new Workload(new ObjectMeta(name, ns, Map.of("app", name.replaceAll("-\\d+$", ""))), sa, address, List.of(), Source.UNKNOWN);
    }

    final InventoryDirectory dir = new InventoryDirectory();

    @Test
    void resolvesNodesAndCallersBySpiffeIdThenAddress() {
        dir.update("cluster.local", List.of(
                        w("shop", "payments-1", "payments", "127.0.1.3"),
                        w("shop", "checkout-1", "checkout", "127.0.1.1"),
                        w("shop", "checkout-2", "checkout", "127.0.1.2")),
                wl -> wl.metadata().labels().get("app"));

        assertThat(dir.byNodeId("shop/payments-1")).hasValue(WorkloadRef.workload("shop", "payments-1", "payments"));
        assertThat(dir.byNodeId("shop/nope")).isEmpty();
        String checkout = "spiffe://cluster.local/ns/shop/sa/checkout";
        assertThat(dir.bySource(checkout, "127.0.1.2")).map(WorkloadRef::name).hasValue("checkout-2");
        // Shared identity, unknown address: the first of them stands in.
        assertThat(dir.bySource(checkout, "10.9.9.9")).map(WorkloadRef::name).hasValue("checkout-1");
        // Another trust domain is not ours.
        assertThat(dir.bySource("spiffe://other.domain/ns/shop/sa/checkout", "127.0.1.1")).isEmpty();
        // Plaintext: by address alone.
        assertThat(dir.bySource(null, "127.0.1.3")).map(WorkloadRef::name).hasValue("payments-1");
        assertThat(dir.workloads()).extracting(WorkloadRef::id).containsExactly("shop/checkout-1", "shop/checkout-2", "shop/payments-1");

        dir.update("cluster.local", List.of(w("shop", "payments-1", "payments", "127.0.1.3")), wl -> null);
        assertThat(dir.bySource(checkout, "127.0.1.2")).isEmpty();
        assertThat(dir.byNodeId("shop/payments-1")).map(WorkloadRef::segment).isEmpty();
    }

    @Test
    void drawsEachWorkloadInTheMostSpecificSegmentOfItsNamespaceThatSelectsIt() {
        List<Workload> workloads = List.of(w("shop", "payments-1", "payments", "127.0.1.1"),
                w("shop", "payments-2", "payments", "127.0.1.2"), w("shop", "checkout-1", "checkout", "127.0.1.3"),
                w("shop", "web-1", "web", "127.0.1.4"), w("ops", "payments-1", "payments", "127.0.2.1"));
        List<Segment> segments = List.of(
                segment("shop", "everything", Map.of(), List.of()),
                segment("shop", "payments", Map.of("app", "payments"), List.of()),
                // Same size as "payments" for payments-1 and -2: the name decides ("money" < "payments").
                segment("shop", "money", Map.of(), List.of(new SelectorRequirement("app", SelectorRequirement.Operator.In,
                        List.of("payments")))),
                segment("shop", "checkout-or-web", Map.of(), List.of(new SelectorRequirement("app",
                        SelectorRequirement.Operator.In, List.of("checkout", "web")))),
                segment("shop", "checkout", Map.of("app", "checkout"), List.of()),
                segment("ops", "nothing", Map.of("app", "absent"), List.of()));
        dir.update(new Mesh(MeshConfig.DEFAULT, segments, List.of(), workloads, List.of()));

        assertThat(dir.byNodeId("shop/payments-1")).map(WorkloadRef::segment).hasValue("money");
        assertThat(dir.byNodeId("shop/payments-2")).map(WorkloadRef::segment).hasValue("money");
        assertThat(dir.byNodeId("shop/checkout-1")).map(WorkloadRef::segment).hasValue("checkout");
        assertThat(dir.byNodeId("shop/web-1")).map(WorkloadRef::segment).hasValue("checkout-or-web");
        // Another namespace's segments never apply; none of its own selects it.
        assertThat(dir.byNodeId("ops/payments-1")).map(WorkloadRef::segment).isEmpty();
    }

    static Segment segment(String ns, String name, Map<String, String> labels, List<SelectorRequirement> exprs) {
        return new Segment(new ObjectMeta(name, ns, Map.of()), new LabelSelector(labels, exprs), Source.UNKNOWN);
    }
}
