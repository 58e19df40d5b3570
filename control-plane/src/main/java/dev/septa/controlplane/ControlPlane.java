package dev.septa.controlplane;

import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import java.util.HashMap;
import java.util.Map;

/**
 * The running control plane: xDS/SDS (TLS) plus the HTTP API, health and Prometheus metrics. The Java entry point
 * for {@code septa serve}, e2e tests and benchmarks: {@code try (var cp = ControlPlane.start(options)) { cp.xdsPort(); }}.
 * With ports 0 both servers pick free ports; {@link #xdsPort()} and {@link #httpPort()} tell which.
 */
public final class ControlPlane implements AutoCloseable {
    private final ApplicationContext context;
    private final ControlPlaneCore core;
    private final EmbeddedServer http;

    private ControlPlane(ApplicationContext context, ControlPlaneCore core, EmbeddedServer http) {
        this.context = context;
        this.core = core;
        this.http = http;
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
        ApplicationContext context = ApplicationContext.builder()
                .properties(properties)
                .singletons(options)
                .deduceEnvironment(false)
                .banner(false)
                .start();
        try {
            ControlPlaneCore core = context.getBean(ControlPlaneCore.class);
            context.getBean(dev.septa.controlplane.auth.HttpAccessToken.class); // STATE/http-token exists from the start, for the CLI
            EmbeddedServer http = context.getBean(EmbeddedServer.class);
            if (!http.isRunning()) {
                http.start();
            }
            return new ControlPlane(context, core, http);
        } catch (RuntimeException e) {
            context.close();
            throw e;
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
    }
}
