package dev.septa.controlplane;

import dev.septa.ca.IssuanceListener;
import dev.septa.controlplane.certs.CaWorkloadCertificates;
import dev.septa.identity.KeyedCertificate;
import dev.septa.controlplane.certs.FleetRotationDriver;
import dev.septa.controlplane.certs.SecretIssuer;
import dev.septa.controlplane.certs.WorkloadCertificates;
import dev.septa.controlplane.auth.MeshNodeAuthorizer;
import dev.septa.controlplane.auth.NodeTokens;
import dev.septa.controlplane.publish.ConfigPublisher;
import dev.septa.controlplane.publish.MeshCompilation;
import dev.septa.controlplane.publish.MeshState;
import dev.septa.controlplane.publish.PolicyMeshCompilation;
import dev.septa.controlplane.status.StatusReport;
import dev.septa.controlplane.xds.ProxyConfigCache;
import dev.septa.controlplane.xds.StreamAuthInterceptor;
import dev.septa.controlplane.xds.StreamAuthorizer;
import dev.septa.controlplane.xds.XdsServer;
import dev.septa.identity.SpiffeId;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.Dialect;
import dev.septa.policy.model.MeshConfig;
import io.micrometer.core.instrument.Gauge;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;
import io.grpc.BindableService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The control plane without its HTTP face: source → publisher → xDS cache → xDS/SDS server, plus the CA. Plain
 * Java, so tests and benchmarks can run it without Micronaut; {@link ControlPlane} adds the HTTP API.
 */
public final class ControlPlaneCore implements AutoCloseable {
    public static final String SERVING_SERVICE_ACCOUNT = SpiffeId.CONTROL_PLANE_SERVICE_ACCOUNT;
    public static final String SERVING_NAMESPACE = SpiffeId.CONTROL_PLANE_NAMESPACE;
    /** The control plane's Service as injected pods resolve it (manifests/service.yaml). */
    public static final String SERVICE_DNS_NAME = "septa." + SERVING_NAMESPACE + ".svc";

    private final ControlPlaneOptions options;
    private final WorkloadCertificates certificates;
    /** Septa's own CA when the options name no other; only it can rotate its signer. */
    private final CaWorkloadCertificates builtInCa;
    private final ControlPlaneMetrics metrics;
    private final dev.septa.controlplane.audit.AuditLog audit;
    private final MeshState mesh = new MeshState();
    private final ProxyConfigCache cache;
    private final NodeTokens tokens;
    private final SecretIssuer secrets;
    private final ConfigPublisher publisher;
    private final ScheduledExecutorService servingRotation =
            Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("septa-serving-cert").factory());
    private XdsServer xds;
    private final List<BindableService> extraServices = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<Consumer<CompiledMesh>> meshListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private FleetRotationDriver rotator;
    /** Null: the lone writer of local mode; set with replicas (Kubernetes mode). */
    private java.util.function.BooleanSupplier rotationLeads;
    /** Local mode's quarantines ordered through the HTTP API (null in Kubernetes mode, where they are CRs). */
    private final dev.septa.controlplane.quarantine.QuarantineStore quarantines;
    private final dev.septa.controlplane.quarantine.QuarantineEvents quarantineEvents =
            new dev.septa.controlplane.quarantine.QuarantineEvents(Clock.systemUTC());
    /** Kubernetes mode's TokenReview behind its bounds (any client that reaches the xDS port can trigger it). */
    private final dev.septa.controlplane.auth.BoundedTokenReviewer tokenReviews;

    /** Septa's compiler and the CA in {@code stateDir/ca}, unless the options name others. */
    public ControlPlaneCore(ControlPlaneOptions options, ControlPlaneMetrics metrics) {
        this(options, options.compilation() != null ? options.compilation() : new PolicyMeshCompilation(),
                options.certificates(), metrics);
    }

    public ControlPlaneCore(ControlPlaneOptions options, MeshCompilation compilation, WorkloadCertificates certificates,
                            ControlPlaneMetrics metrics) {
        try {
            // Before anything writes into it: the CA key, the token key and the HTTP token live here.
            dev.septa.controlplane.auth.SecretFile.createStateDirectory(options.stateDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the state directory " + options.stateDir() + ": " + e.getMessage(), e);
        }
        this.options = options;
        this.audit = options.auditToStdout()
                ? dev.septa.controlplane.audit.AuditLog.toStream(System.out, "standard output", options.stateDir())
                : dev.septa.controlplane.audit.AuditLog.inStateDirectory(options.stateDir());
        try {
            this.quarantines = kubernetesMode() ? null : dev.septa.controlplane.quarantine.QuarantineStore.open(options.stateDir());
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        quarantineEvents.add(new QuarantineAudit(audit));
        this.builtInCa = certificates != null ? null
                : new CaWorkloadCertificates(options.caStores() != null ? options.caStores()
                        : new dev.septa.ca.FileRotationStores(options.stateDir().resolve("ca")), this::trustDomain,
                        IssuanceListener.NONE, options.minCertificateTtl());
        this.certificates = certificates != null ? certificates : builtInCa;
        this.metrics = metrics;
        this.tokenReviews = options.serviceAccountTokens() == null ? null
                : new dev.septa.controlplane.auth.BoundedTokenReviewer(options.serviceAccountTokens(),
                        dev.septa.controlplane.auth.BoundedTokenReviewer.Limits.DEFAULT);
        this.cache = new ProxyConfigCache(dev.septa.controlplane.xds.XdsEvents.both(metrics, new dev.septa.controlplane.xds.XdsEvents() {
            @Override
            public void version(String nodeId, String typeUrl, String version, String configVersion, VersionOutcome outcome, String error) {
                audit.xds(nodeId, typeUrl, version, configVersion, outcome.name(), error);
            }
        }));
        try {
            this.tokens = NodeTokens.open(options.stateDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the node token key in " + options.stateDir() + ": " + e.getMessage(), e);
        }
        SecretIssuer.Listener certificateEvents = new SecretIssuer.Listener() {
            @Override
            public void issued(String nodeId, KeyedCertificate certificate) {
                metrics.issued(nodeId, certificate);
                audit.certificateIssued(nodeId, certificate);
            }

            @Override
            public void renewalFailed(String nodeId, String error, int failures, Instant retryAt) {
                metrics.renewalFailed(nodeId, error, failures, retryAt);
                audit.certificateRefused(nodeId, mesh.spiffeId(nodeId).orElse(null), error, failures, retryAt);
            }
        };
        this.secrets = new SecretIssuer(this.certificates, mesh, cache, Clock.systemUTC(), certificateEvents,
                SecretIssuer.Options.DEFAULT.withTtlOverride(options.certificateTtl()));
        cache.secretSource(secrets);
        cache.nodeAuthorizer(nodeAuthorizer());
        dev.septa.controlplane.source.MeshSource source = quarantines == null ? options.effectiveSource()
                : new dev.septa.controlplane.quarantine.QuarantineSource(options.effectiveSource(), quarantines);
        ConfigPublisher.Listener onApplied = new ConfigPublisher.Listener() {
            @Override
            public void compiled(dev.septa.controlplane.publish.CompileStatus status, Duration took) {
                metrics.compiled(status, took);
            }

            @Override
            public void applying(dev.septa.controlplane.source.SourceSnapshot input, CompiledMesh compiled) {
                java.util.Map<String, Object> configurations = new java.util.HashMap<>();
                compiled.proxies().forEach((id, p) -> configurations.put(id, p.configurationIdentity()));
                audit.policyApplied(input, configurations, source::provenance);
            }

            @Override
            public void applied(CompiledMesh compiled, int distinctSnapshots) {
                secrets.meshChanged();
                quarantineEvents.meshApplied(compiled.mesh());
                for (Consumer<CompiledMesh> l : meshListeners) {
                    try {
                        l.accept(compiled);
                    } catch (RuntimeException e) {
                        org.slf4j.LoggerFactory.getLogger(ControlPlaneCore.class).warn("mesh listener failed: {}", e.toString());
                    }
                }
            }
        };
        this.publisher = new ConfigPublisher(source, compilation, cache, mesh, onApplied,
                options.debounceQuiet(), options.debounceMaxDelay(), options.pollInterval());
        if (quarantines != null) {
            quarantines.onChange(publisher::changed);
        }
        for (Dialect d : Dialect.values()) {
            Gauge.builder("septa.proxies.connected", cache, c -> c.connectedCount(d))
                    .description("Proxies with at least one open xDS stream").tag("dialect", d.name().toLowerCase())
                    .register(metrics.registry());
        }
        Gauge.builder("septa.snapshots.distinct", cache, ProxyConfigCache::distinctSnapshots).register(metrics.registry());
        Gauge.builder("septa.certificates.nearest.expiry.seconds", secrets,
                        s -> s.nearestExpiry().map(t -> (double) Duration.between(Instant.now(), t).toSeconds()).orElse(Double.NaN))
                .description("Seconds until the earliest-expiring workload certificate in use expires").register(metrics.registry());
        Gauge.builder("septa.certificates.renewal.failing", secrets, s -> s.renewals().stream().filter(SecretIssuer.Renewal::failing).count())
                .description("Connected workloads whose last certificate issuance failed (retrying with backoff)")
                .register(metrics.registry());
    }

    /** Serves this gRPC service on the xDS port, behind the same TLS and authentication; call before {@link #start}. */
    public ControlPlaneCore addService(BindableService service) {
        extraServices.add(service);
        return this;
    }

    /** Called on the publisher thread with every compiled mesh put in force (the first one during {@link #start}). */
    public ControlPlaneCore onMeshApplied(Consumer<CompiledMesh> listener) {
        meshListeners.add(listener);
        return this;
    }

    /**
     * With several replicas (Kubernetes mode), the root rotation moves on only while {@code leads} holds; otherwise this
     * replica follows the stores the leader writes ({@link FleetRotationDriver#leadOnlyWhile}). Call before {@link #start}.
     */
    public ControlPlaneCore leadRotationOnlyWhile(java.util.function.BooleanSupplier leads) {
        this.rotationLeads = leads;
        return this;
    }

    /**
     * Told of every quarantine put in force and lifted, from the API or from Kubernetes CRs (the audit log's hook);
     * the first mesh after start reports those already in force as {@code restored}, and so does a listener added later.
     */
    public ControlPlaneCore onQuarantineChange(dev.septa.controlplane.quarantine.QuarantineListener listener) {
        quarantineEvents.add(listener);
        return this;
    }

    /** Local mode's quarantine orders; empty in Kubernetes mode, where a Quarantine is a custom resource. */
    public java.util.Optional<dev.septa.controlplane.quarantine.QuarantineStore> quarantineStore() {
        return java.util.Optional.ofNullable(quarantines);
    }

    /**
     * Kubernetes mode: the mesh comes from the cluster (any source but local files) or workloads authenticate with
     * service-account tokens. Replicas then share everything they compile through the API; a replica-local input
     * (local mode's quarantine file) would give each replica its own configuration version.
     */
    public boolean kubernetesMode() {
        return options.serviceAccountTokens() != null
                || options.source() != null && !(options.source() instanceof dev.septa.controlplane.files.LocalFileSource);
    }

    /** The ADS rule of decision 0002: which nodes a principal may act (and report) as. */
    public MeshNodeAuthorizer nodeAuthorizer() {
        dev.septa.controlplane.source.MeshSource source = options.source();
        java.util.function.Function<String, java.util.Optional<String>> podUids =
                source == null ? nodeId -> java.util.Optional.empty() : source::podUid;
        return new MeshNodeAuthorizer(mesh::spiffeId, options.unboundServiceAccountTokens(), podUids);
    }

    public ControlPlaneCore start() throws IOException {
        publisher.start();
        KeyedCertificate serving = issueServing();
        xds = new XdsServer(new InetSocketAddress(options.xdsHost(), options.xdsPort()), cache,
                new StreamAuthInterceptor(tokens, cache, tokenReviews), new StreamAuthorizer(nodeAuthorizer(), cache),
                serving, certificates.trustBundlePem(), List.copyOf(extraServices)).start();
        scheduleServingRotation(serving);
        if (builtInCa != null) {
            CaWorkloadCertificates ca = builtInCa;
            rotator = new FleetRotationDriver(ca, secrets, cache, this::refreshServing, this::meshNodes, Clock.systemUTC(),
                    new FleetRotationDriver.Options(options.rootRotationShare(), FleetRotationDriver.Options.DEFAULT.settle(),
                            FleetRotationDriver.Options.DEFAULT.tick(), options.rootRotationReissueWindow()))
                    .onStatusChange(st -> audit.rotationStage(st.stage(), st.signer(), st.roots(), st.lastError()));
            if (rotationLeads != null) {
                rotator.leadOnlyWhile(rotationLeads);
            }
            rotator.start();
            Gauge.builder("septa.ca.rotation.stage", rotator, r -> r.stage().ordinal())
                    .description("Root rotation stage: 0 none, 1 new root in the bundle, 2 new root signs (old still trusted)")
                    .register(metrics.registry());
            Gauge.builder("septa.ca.trust.roots", ca, c -> c.rootRotation().roots().size())
                    .description("Roots in the trust bundle (2 during a root rotation)").register(metrics.registry());
            Gauge.builder("septa.ca.rotation.waiting", rotator, r -> r.status().waitingFor().size())
                    .description("Workloads the current root rotation stage waits for").register(metrics.registry());
        }
        return this;
    }

    /** The audit log (quarantines reach it through {@link QuarantineAudit}). */
    public dev.septa.controlplane.audit.AuditLog audit() {
        return audit;
    }

    /** The workloads of the mesh in force (node ids): what a root rotation waits for. */
    private java.util.Set<String> meshNodes() {
        return mesh.mesh().map(m -> m.workloads().stream().map(dev.septa.policy.model.Workload::id)
                .collect(java.util.stream.Collectors.toUnmodifiableSet())).orElse(java.util.Set.of());
    }

    private String trustDomain() {
        return mesh.mesh().map(m -> m.config().trustDomain()).orElse(MeshConfig.DEFAULT.trustDomain());
    }

    private KeyedCertificate issueServing() {
        String spiffeId = SpiffeId.controlPlane(trustDomain());
        // In Kubernetes, injected pods dial the Service by name and grpc checks the name (decision 0005).
        return certificates.issueServing(spiffeId, List.of("localhost", SERVICE_DNS_NAME), List.of("127.0.0.1"));
    }

    /** A serving certificate from the CA's current signer and the current bundle (root rotation stages). */
    private void refreshServing() {
        if (xds != null) {
            xds.updateCredentials(issueServing(), certificates.trustBundlePem());
        }
    }

    /** What {@code septa ca rotate} gets back. */
    public sealed interface RotationRequest {
        record Accepted() implements RotationRequest {}

        record NoBuiltInCa() implements RotationRequest {}

        record NeedsOperator(String message) implements RotationRequest {}
    }

    /** {@code septa ca rotate}: starts a staged rotation of the signing CA, or says why it cannot. */
    public RotationRequest requestRootRotation() {
        if (rotator == null) {
            return new RotationRequest.NoBuiltInCa();
        }
        return rotator.request().<RotationRequest>map(RotationRequest.NeedsOperator::new).orElse(new RotationRequest.Accepted());
    }

    public java.util.Optional<FleetRotationDriver> rootRotator() {
        return java.util.Optional.ofNullable(rotator);
    }

    /** Renews the serving certificate at half its lifetime; connected clients keep their streams. */
    private void scheduleServingRotation(KeyedCertificate current) {
        Duration half = Duration.between(current.notBefore(), current.notAfter()).dividedBy(2);
        Duration until = Duration.between(Instant.now(), current.notBefore().plus(half));
        servingRotation.schedule(() -> {
            KeyedCertificate next = issueServing();
            xds.updateCredentials(next, certificates.trustBundlePem());
            scheduleServingRotation(next);
        }, Math.max(1000, until.toMillis()), TimeUnit.MILLISECONDS);
    }

    public int xdsPort() {
        return xds.port();
    }

    /** The CA as the control plane uses it (Kubernetes mode publishes its trust bundle). */
    public WorkloadCertificates certificates() {
        return certificates;
    }

    public NodeTokens nodeTokens() {
        return tokens;
    }

    public ProxyConfigCache cache() {
        return cache;
    }

    public SecretIssuer secretIssuer() {
        return secrets;
    }

    public MeshState meshState() {
        return mesh;
    }

    /** Signals a change without waiting for the poller. */
    public void sourceChanged() {
        publisher.changed();
    }

    public StatusReport status() {
        return new StatusReport(StatusReport.Compile.of(mesh.status()), cache.distinctSnapshots(),
                secrets.nearestExpiry().orElse(null),
                cache.status().stream().map(StatusReport.Proxy::of).toList(),
                secrets.renewals().stream().map(StatusReport.Renewal::of).toList(),
                rotator == null ? null : StatusReport.Rotation.of(rotator.status()), warnings(), quarantineViews());
    }

    /**
     * The quarantines: those of the mesh in force, and local orders not in force yet (the compile is under way, or
     * rejected for another error: then the last good configuration, without them, is still enforced).
     */
    public List<StatusReport.QuarantineView> quarantineViews() {
        java.util.Map<String, StatusReport.QuarantineView> out = new java.util.TreeMap<>();
        java.util.Map<String, dev.septa.controlplane.quarantine.QuarantineOrder> orders =
                quarantines == null ? java.util.Map.of() : quarantines.orders();
        java.util.Set<String> withheld = secrets.withheld();
        mesh.mesh().ifPresent(m -> m.quarantines().forEach(q -> {
            var order = orders.get(q.target());
            boolean known = m.workloads().stream().anyMatch(w -> w.id().equals(q.target()));
            out.putIfAbsent(q.target(), new StatusReport.QuarantineView(q.target(), q.reason(),
                    q.allowFrom() == null ? null : q.allowFrom().toString(), order == null ? null : order.since(),
                    q.source().file(), known, withheld.contains(q.target())));
        }));
        orders.forEach((id, o) -> out.putIfAbsent(id, new StatusReport.QuarantineView(id, o.reason(), o.allowFromQualified(),
                o.since(), quarantines.input().name(), false, false)));
        return List.copyOf(out.values());
    }

    /** Settings that weaken what Septa enforces, for the operator to see in {@code septa status}. */
    private List<String> warnings() {
        List<String> warnings = new java.util.ArrayList<>();
        if (options.serviceAccountTokens() != null && options.unboundServiceAccountTokens()) {
            warnings.add("--allow-unbound-service-account-tokens: a service-account token not bound to a pod admits"
                    + " every pod of its service account, so one stolen token speaks for all of them (docs/security.md)");
        }
        audit.problem().ifPresent(warnings::add);
        return List.copyOf(warnings);
    }

    @Override
    public void close() {
        publisher.close();
        servingRotation.shutdownNow();
        if (rotator != null) {
            rotator.close();
        }
        if (xds != null) {
            xds.close();
        }
        secrets.close();
        if (tokenReviews != null) {
            tokenReviews.close();
        }
        audit.close();
    }
}
