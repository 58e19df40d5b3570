package dev.septa.controlplane.graph;

import io.micronaut.context.BeanProvider;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Secondary;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;

import java.time.Duration;
import java.time.InstantSource;

/**
 * The graph's beans. The control plane keeps the {@link InventoryDirectory} bean up to date (or supplies a
 * {@link WorkloadDirectory} of its own) and, optionally, a {@link PolicyAnnotator} (the policy checker over the compiled mesh)
 * and a {@link ReporterAuthorizer} (its stream authentication), and adds the {@link AccessLogReceiver} bean to its
 * gRPC server. Settings: {@code septa.graph.window} (15m), {@code septa.graph.max-edges} (10000),
 * {@code septa.graph.als.max-entries-per-second} (20000), {@code septa.graph.als.max-message-bytes} (1 MiB).
 */
@Factory
public class GraphFactory {

    @Singleton
    GraphCounters graphCounters() {
        return new GraphCounters();
    }

    /**
     * The inventory the graph resolves identities against; the control plane calls {@code update} whenever it
     * serves a new inventory. Secondary: a {@link WorkloadDirectory} bean of the control plane's own wins.
     */
    @Singleton
    @Secondary
    InventoryDirectory inventoryDirectory() {
        return new InventoryDirectory();
    }

    @Singleton
    TrafficGraph trafficGraph(GraphCounters counters,
                              @Value("${septa.graph.window:15m}") Duration window,
                              @Value("${septa.graph.max-edges:10000}") int maxEdges) {
        return new TrafficGraph(new TrafficGraph.Settings(window, 90, maxEdges, Duration.ofMinutes(1)),
                InstantSource.system(), counters);
    }

    /**
     * {@code septa_requests_total}, fed by the graph; {@code septa.metrics.requests.max-series} (2000) bounds its label
     * sets. Eager, so that it counts from the first call.
     */
    @io.micronaut.context.annotation.Context
    @io.micronaut.context.annotation.Requires(beans = io.micrometer.core.instrument.MeterRegistry.class)
    RequestCounters requestCounters(TrafficGraph graph, io.micrometer.core.instrument.MeterRegistry registry,
                                    @Value("${septa.metrics.requests.max-series:2000}") int maxSeries) {
        RequestCounters counters = new RequestCounters(registry, maxSeries);
        graph.addListener(counters);
        return counters;
    }

    @Singleton
    FloodGuard floodGuard(GraphCounters counters,
                          @Value("${septa.graph.als.max-entries-per-second:20000}") double perSecond) {
        return new FloodGuard(perSecond, (int) Math.max(1, perSecond / 4), counters);
    }

    @Singleton
    AccessLogReceiver accessLogReceiver(TrafficGraph graph, WorkloadDirectory directory, FloodGuard guard,
                                        BeanProvider<PolicyAnnotator> annotator, BeanProvider<ReporterAuthorizer> authorizer,
                                        @Value("${septa.graph.als.max-message-bytes:1048576}") int maxMessageBytes) {
        return new AccessLogReceiver(graph, directory, guard,
                annotator.isPresent() ? annotator.get() : PolicyAnnotator.NONE, maxMessageBytes,
                authorizer.isPresent() ? authorizer.get() : ReporterAuthorizer.ANYONE);
    }
}
