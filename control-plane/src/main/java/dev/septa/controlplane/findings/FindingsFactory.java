package dev.septa.controlplane.findings;

import dev.septa.controlplane.graph.TrafficGraph;
import dev.septa.policy.model.MeshConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.BeanProvider;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;


/**
 * The findings' beans, built eagerly with the context so that no call is missed: the detector listens to the
 * {@link TrafficGraph}; the store tells the page's event stream and Prometheus. Settings: {@code septa.findings.max}
 * (1000), {@code septa.findings.max-sources} (10000), {@code septa.findings.max-known-edges} (50000); the thresholds come
 * from MeshConfig ({@link FindingsDetector#configure}).
 */
@Factory
public class FindingsFactory {

    @Singleton
    FindingsStore findingsStore(@Value("${septa.findings.max:1000}") int maxFindings) {
        return new FindingsStore(maxFindings);
    }

    @Singleton
    @Bean(preDestroy = "close")
    FindingsRuntime findingsRuntime(FindingsStore store,
                                    @Value("${septa.findings.max-sources:10000}") int maxSources,
                                    @Value("${septa.findings.max-known-edges:50000}") int maxKnownEdges) {
        return new FindingsRuntime(new FindingsDetector.Limits(maxSources, maxKnownEdges), store);
    }

    @Context
    FindingsDetector findingsDetector(TrafficGraph graph, FindingsStore store, FindingsRuntime runtime,
                                      FindingsEvents events, BeanProvider<MeterRegistry> registry) {
        FindingsDetector detector = new FindingsDetector(store, runtime.limits(), MeshConfig.Detection.DEFAULT);
        store.addListener(events);
        if (registry.isPresent()) {
            store.addListener(new FindingsMetrics(registry.get(), store));
        }
        graph.addListener(detector);
        return detector;
    }

    @Singleton
    FindingsEvents findingsEvents() {
        return new FindingsEvents();
    }
}
