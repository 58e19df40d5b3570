package dev.septa.controlplane;

import dev.septa.identity.KeyedCertificate;
import dev.septa.controlplane.certs.SecretIssuer;
import dev.septa.controlplane.publish.CompileStatus;
import dev.septa.controlplane.publish.ConfigPublisher;
import dev.septa.controlplane.xds.XdsEvents;
import dev.septa.policy.compile.Dialect;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Septa's Prometheus metrics ({@code septa_*}); the gauges that need the cache are registered by the core. */
public final class ControlPlaneMetrics implements XdsEvents, ConfigPublisher.Listener, SecretIssuer.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(ControlPlaneMetrics.class);

    private final MeterRegistry registry;
    private final Counter compileErrors;
    private final Counter compiles;
    private final Counter certificatesIssued;
    private final Counter renewalFailures;
    private final AtomicLong lastCompileOk = new AtomicLong();

    public ControlPlaneMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.compileErrors = Counter.builder("septa.compile.errors")
                .description("Compiles rejected for errors (the last good configuration stayed in force)").register(registry);
        this.compiles = Counter.builder("septa.compiles").description("Compiles run").register(registry);
        this.certificatesIssued = Counter.builder("septa.certificates.issued").description("Workload SVIDs issued").register(registry);
        this.renewalFailures = Counter.builder("septa.certificates.renewal.failures")
                .description("Failed workload certificate issuances (each retried with backoff)").register(registry);
        registry.gauge("septa.compile.last.ok", lastCompileOk);
        // Registered up front so dashboards and alerts see zeros rather than absent series.
        for (String type : new String[] {"Listener", "RouteConfiguration", "Cluster", "ClusterLoadAssignment", "Secret"}) {
            pushes(type);
            nacks(type);
        }
        for (Dialect dialect : Dialect.values()) {
            latency(dialect);
        }
    }

    private Counter pushes(String type) {
        return Counter.builder("septa.xds.pushes").description("xDS responses sent").tag("type", type).register(registry);
    }

    private Counter nacks(String type) {
        return Counter.builder("septa.xds.nacks").description("xDS responses rejected by proxies").tag("type", type).register(registry);
    }

    private Timer latency(Dialect dialect) {
        return Timer.builder("septa.push.latency")
                .description("From a detected change to the proxy's ACK of every type it watches")
                .tag("dialect", dialect.name().toLowerCase())
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(30))
                .register(registry);
    }

    public MeterRegistry registry() {
        return registry;
    }

    @Override
    public void pushed(String nodeId, String typeUrl, String version) {
        pushes(shortType(typeUrl)).increment();
    }

    @Override
    public void nacked(String nodeId, String typeUrl, String version, String error) {
        nacks(shortType(typeUrl)).increment();
        LOG.warn("{} rejected {} version {}: {}", nodeId, shortType(typeUrl), version, error);
    }

    @Override
    public void converged(String nodeId, Dialect dialect, Duration latency) {
        latency(dialect).record(latency);
    }

    @Override
    public void compiled(CompileStatus status, Duration took) {
        compiles.increment();
        if (!status.ok()) {
            compileErrors.increment();
        }
        lastCompileOk.set(status.ok() ? 1 : 0);
    }

    @Override
    public void issued(String nodeId, KeyedCertificate certificate) {
        certificatesIssued.increment();
    }

    @Override
    public void renewalFailed(String nodeId, String error, int failures, java.time.Instant retryAt) {
        renewalFailures.increment();
    }

    static String shortType(String typeUrl) {
        int slash = typeUrl.lastIndexOf('.');
        return slash < 0 ? typeUrl : typeUrl.substring(slash + 1);
    }
}
