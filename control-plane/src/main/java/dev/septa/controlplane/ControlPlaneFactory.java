package dev.septa.controlplane;

import dev.septa.controlplane.findings.FindingsDetector;
import dev.septa.controlplane.findings.FindingsRuntime;
import dev.septa.controlplane.findings.FindingsSink;
import dev.septa.controlplane.graph.AccessLogReceiver;
import dev.septa.controlplane.graph.CheckerPolicyAnnotator;
import dev.septa.controlplane.graph.FloodGuard;
import dev.septa.controlplane.graph.InventoryDirectory;
import dev.septa.controlplane.graph.TrafficGraph;
import dev.septa.controlplane.graph.WorkloadDirectory;
import dev.septa.controlplane.auth.HttpAccessToken;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The Micronaut half of the composition root ({@link ControlPlane#start} is the other): exposes the control plane
 * core as a bean; the options come from {@code septa serve} or a test. Wires the traffic graph into it: the access-log receiver on the xDS port (same TLS, same authentication, a reporter may report only
 * as a node it may act as), and, on every applied compile, the graph's inventory and the policy annotator.
 */
@Factory
public class ControlPlaneFactory {

    @Singleton
    ControlPlaneMetrics metrics(MeterRegistry registry) {
        return new ControlPlaneMetrics(registry);
    }

    /** The HTTP API's bearer token for clients off this machine ({@link dev.septa.controlplane.http.HttpAccessFilter}). */
    @Singleton
    HttpAccessToken httpAccessToken(ControlPlaneOptions options) {
        try {
            return HttpAccessToken.open(options.stateDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the HTTP access token in " + options.stateDir() + ": " + e.getMessage(), e);
        }
    }

    @Singleton
    @Bean(preDestroy = "close")
    ControlPlaneCore core(ControlPlaneOptions options, ControlPlaneMetrics metrics, TrafficGraph graph,
                          WorkloadDirectory directory, InventoryDirectory inventory, FloodGuard guard,
                          @Value("${septa.graph.als.max-message-bytes:1048576}") int maxMessageBytes,
                          FindingsDetector findings, FindingsRuntime findingsRuntime,
                          @Value("${septa.findings.sink.max-bytes:10485760}") long findingsFileBytes) {
        // Findings as JSON lines for a SIEM: the container log in Kubernetes mode (the one mode that reviews
        // service-account tokens), a rotated file in the state directory otherwise (docs/incident-response.md).
        findingsRuntime.useSink(options.serviceAccountTokens() != null ? FindingsSink.standardOutput()
                : FindingsSink.file(options.stateDir().resolve("findings.jsonl"), findingsFileBytes));
        ControlPlaneCore core = new ControlPlaneCore(options, metrics);
        CheckerPolicyAnnotator annotator = new CheckerPolicyAnnotator(core.cache()::dialectOf);
        core.addService(new AccessLogReceiver(graph, directory, guard, annotator, maxMessageBytes,
                new SessionReporterAuthorizer(core.nodeAuthorizer())));
        core.onMeshApplied(compiled -> {
            inventory.update(compiled.mesh());
            findings.configure(compiled.mesh().config().detection());
            annotator.meshApplied(compiled);
        });
        options.contributions().forEach(c -> c.beforeStart(core));
        try {
            return core.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the xDS server on " + options.xdsHost() + ":" + options.xdsPort()
                    + ": " + e.getMessage(), e);
        }
    }
}
