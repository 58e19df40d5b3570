package dev.septa.controlplane;

import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The running control plane: xDS/SDS (TLS) plus the HTTP API, health and Prometheus metrics. The Java entry point
 * for {@code septa serve} in both modes, the demo, e2e tests and benchmarks, and the composition root: the options
 * say what to run, {@link ControlPlaneFactory} builds the core and the traffic graph into Micronaut's context, and the
 * options' {@link ServeContribution}s (Kubernetes mode) are started here once both servers run and closed after
 * them. {@code try (var cp = ControlPlane.start(options)) { cp.xdsPort(); }}. With ports 0 both servers pick free
 * ports; {@link #xdsPort()} and {@link #httpPort()} tell which.
 */
public final class ControlPlane implements AutoCloseable {
    private final ApplicationContext context;
    private final ControlPlaneCore core;
    private final EmbeddedServer http;
    private final List<ServeContribution> contributions;

    private ControlPlane(ApplicationContext context, ControlPlaneCore core, EmbeddedServer http,
                         List<ServeContribution> contributions) {
        this.context = context;
        this.core = core;
        this.http = http;
        this.contributions = contributions;
    }

    public static ControlPlane start(ControlPlaneOptions options) {
        Map<String, Object> properties = new HashMap<>();
        properties.put("micronaut.application.name", "septa");
        properties.put("micronaut.server.host", options.httpHost());
        properties.put("micronaut.server.port", options.httpPort() == 0 ? -1 : options.httpPort());
        properties.put("micronaut.banner.enabled", false);
        properties.put("micronaut.serde.write-dates-as-timestamps", false);
        // Only the management endpoints Septa uses: health (probes) and prometheus. Micronaut's others (routes,
        // threaddump, refresh, beans, loggers, info, ...) would show internals or change state.
        properties.put("endpoints.all.enabled", false);
        properties.put("endpoints.health.enabled", true);
        properties.put("endpoints.prometheus.enabled", true);
        properties.put("endpoints.all.sensitive", false); // HttpAccessFilter decides who may call what
        properties.put("endpoints.health.details-visible", "ANONYMOUS");
        properties.put("endpoints.prometheus.sensitive", false);
        properties.put("micronaut.metrics.enabled", true);
        properties.put("micronaut.metrics.export.prometheus.enabled", true);
        properties.put("micronaut.metrics.export.prometheus.descriptions", true);
        ApplicationContext context;
        try {
            context = ApplicationContext.builder()
                    .properties(properties)
                    .singletons(options)
                    .deduceEnvironment(false)
                    .banner(false)
                    .start();
        } catch (RuntimeException e) {
            close(options.contributions());
            throw e;
        }
        try {
            ControlPlaneCore core = context.getBean(ControlPlaneCore.class);
            context.getBean(dev.septa.controlplane.auth.HttpAccessToken.class); // STATE/http-token exists from the start, for the CLI
            EmbeddedServer http = context.getBean(EmbeddedServer.class);
            if (!http.isRunning()) {
                http.start();
            }
            for (ServeContribution contribution : options.contributions()) {
                contribution.started(core);
            }
            return new ControlPlane(context, core, http, options.contributions());
        } catch (RuntimeException e) {
            context.close();
            close(options.contributions());
            throw e;
        }
    }

    /** Last started, first closed; after the core, whose publisher must not read a source that is closing. */
    private static void close(List<ServeContribution> contributions) {
        for (ServeContribution contribution : contributions.reversed()) {
            contribution.close();
        }
    }

    public int xdsPort() {
        return core.xdsPort();
    }

    public int httpPort() {
        return http.getPort();
    }

    public ControlPlaneCore core() {
        return core;
    }

    /** The traffic graph the access-log receiver on the xDS port feeds. */
    public dev.septa.controlplane.graph.TrafficGraph trafficGraph() {
        return context.getBean(dev.septa.controlplane.graph.TrafficGraph.class);
    }

    @Override
    public void close() {
        http.stop();
        context.close();
        close(contributions);
    }
}
