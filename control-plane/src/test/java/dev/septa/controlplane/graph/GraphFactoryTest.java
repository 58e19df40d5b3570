package dev.septa.controlplane.graph;

import dev.septa.policy.model.ObjectMeta;
import dev.septa.policy.model.Source;
import dev.septa.policy.model.Workload;
import io.micronaut.context.ApplicationContext;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The beans the control plane gets by merging this package: all of them resolve with nothing else supplied. */
class GraphFactoryTest {

    @Test
    void receiverAndControllerWorkOnTheInventoryDirectory() {
        try (ApplicationContext ctx = ApplicationContext.run(Map.of("septa.graph.window", "5m", "septa.graph.max-edges", 7))) {
            AccessLogReceiver receiver = ctx.getBean(AccessLogReceiver.class);
            assertThat(receiver).isNotNull();
            InventoryDirectory dir = ctx.getBean(InventoryDirectory.class);
            assertThat(ctx.getBean(WorkloadDirectory.class)).isSameAs(dir);
            TrafficGraph graph = ctx.getBean(TrafficGraph.class);
            assertThat(graph.settings().window()).hasMinutes(5);
            assertThat(graph.settings().maxEdges()).isEqualTo(7);

            dir.update("cluster.local", List.of(new Workload(new ObjectMeta("payments-1", "shop", Map.of()), "payments",
                    "127.0.1.3", List.of(), Source.UNKNOWN)), w -> "payments");
            GraphJson json = ctx.getBean(GraphController.class).json(null, null);
            assertThat(json.nodes()).extracting(GraphJson.Node::id, GraphJson.Node::segment)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("shop/payments-1", "payments"));
        }
    }
}
