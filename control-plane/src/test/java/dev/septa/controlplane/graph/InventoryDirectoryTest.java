package dev.septa.controlplane.graph;

import dev.septa.policy.model.ObjectMeta;
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
}
