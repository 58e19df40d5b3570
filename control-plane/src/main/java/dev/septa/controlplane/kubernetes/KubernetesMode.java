package dev.septa.controlplane.kubernetes;

import dev.septa.controlplane.ControlPlaneCore;
import dev.septa.controlplane.ServeContribution;
import dev.septa.controlplane.kubernetes.admission.AdmissionReviewHandler;
import dev.septa.controlplane.kubernetes.admission.WebhookServer;
import dev.septa.identity.SpiffeId;
import dev.septa.policy.model.MeshConfig;
import dev.septa.sidecar.inject.InjectionSettings;
import dev.septa.sidecar.inject.PodInjector;
import dev.septa.controlplane.source.MeshSource;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

/**
 * {@code septa serve --kubernetes} around the core: the {@link KubernetesMeshSource} (give {@link #source()} to
 * {@code ControlPlaneOptions.source}) and {@link ObjectIsolatingCompilation} ({@link #compilation()} to
 * {@code ControlPlaneOptions.compilation}), and once the core runs, {@link #attach} sends every watch event to the
 * publisher and starts publishing the trust bundle into the mesh's namespaces; {@link #serveWebhook} serves the
 * injection webhook and keeps its MutatingWebhookConfiguration's {@code caBundle} equal to the trust bundle.
 * {@link #contribution} is all of that as one part of {@code septa serve}, wired by the composition root.
 */
public final class KubernetesMode implements AutoCloseable {
    private final KubernetesMeshSource source;
    private final KubernetesClient client;
    /** One bad object is set aside on its own (per-object last valid version), never the whole cluster's policy. */
    private final ObjectIsolatingCompilation compilation =
            new ObjectIsolatingCompilation(new dev.septa.controlplane.publish.PolicyMeshCompilation());
    private TrustBundlePublisher trustBundles;
    private CustomResourceStatusPublisher statuses;
    /** Whether this replica may write to the API now (the leader); checked before every write. */
    private volatile java.util.function.BooleanSupplier mayWrite = () -> true;
    private LeaderElection election;
    private WebhookServer webhook;
    private WebhookCaBundlePublisher webhookCaBundle;

    private KubernetesMode(KubernetesClient client, KubernetesMeshSource source) {
        this.client = client;
        this.source = source;
    }

    /** Lists and starts watching everything the mesh is made of; fails with the object kind it could not read. */
    public static KubernetesMode connect(KubernetesClient client, Duration syncTimeout) throws MeshSource.SourceException {
        return new KubernetesMode(client, new KubernetesMeshSource(client).start(syncTimeout));
    }

    public KubernetesMeshSource source() {
        return source;
    }

    /**
     * Writes to the API (CR status, and with leader election the CA, rotation stages, trust bundles, caBundle) only
     * while {@code mayWrite} holds; it is asked before every write. Without it this replica always writes.
     */
    public KubernetesMode writeOnlyWhile(java.util.function.BooleanSupplier mayWrite) {
        this.mayWrite = mayWrite;
        return this;
    }

    /**
     * Takes part in leader election on Lease {@value LeaderElection#LEASE} in {@code namespace} as {@code identity}, and
     * writes to the API only while it leads; the lease is released when this closes (a rolling update fails over at once).
     */
    public KubernetesMode electLeader(String namespace, String identity, LeaderElection.Timing timing) {
        election = new LeaderElection(client, namespace, identity, timing, true).start();
        return writeOnlyWhile(election::isLeader);
    }

    /** The leader election once {@link #electLeader} started it, else null. */
    public LeaderElection election() {
        return election;
    }

    /** The CA's stores with every write allowed only while this replica may write (give them to {@code caStores}). */
    public dev.septa.ca.RotationStores leaderOnly(dev.septa.ca.RotationStores stores) {
        return new LeaderOnlyRotationStores(stores, () -> mayWrite.getAsBoolean());
    }

    /**
     * Before the core starts: a replica that does not lead waits until the leader has created the CA (Secret
     * {@value SecretRotationStores#CA} in {@code namespace}), or until it leads itself; false after {@code timeout}.
     */
    public boolean awaitCaOrLeadership(String namespace, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (mayWrite.getAsBoolean() || client.secrets().inNamespace(namespace).withName(SecretRotationStores.CA).get() != null) {
                return true;
            }
            Thread.sleep(200);
        }
        return false;
    }

    /** Give it to {@code ControlPlaneOptions.compilation}: Kubernetes mode compiles object by object (docs/kubernetes.md). */
    public ObjectIsolatingCompilation compilation() {
        return compilation;
    }

    /** Watch events reach the publisher without waiting for its poll; the trust bundle follows the CA. */
    public KubernetesMode attach(ControlPlaneCore core, Duration bundleCheck, Duration resync) {
        source.addListener(core::sourceChanged);
        trustBundles = new TrustBundlePublisher(client, source::meshNamespaces, core.certificates()::trustBundlePem,
                bundleCheck, resync).writeOnlyWhile(() -> mayWrite.getAsBoolean()).start();
        source.addListener(trustBundles::trigger);
        statuses = new CustomResourceStatusPublisher(client, source, compilation::verdicts, () -> core.meshState().mesh(),
                () -> mayWrite.getAsBoolean(), Clock.systemUTC(), resync).start();
        source.addListener(statuses::trigger);
        core.onMeshApplied(mesh -> statuses.trigger());
        return this;
    }

    /**
     * Serves {@code POST /inject} over HTTPS on {@code bind} with a certificate from the core's CA for
     * {@link WebhookServer#DNS_NAMES} (renewed at half its life, re-issued when the signer or bundle changes), and
     * fills the caBundle of MutatingWebhookConfiguration septa-injector; both are checked every {@code check}.
     */
    public WebhookServer serveWebhook(ControlPlaneCore core, InetSocketAddress bind, Duration check, Duration resync) throws IOException {
        return serveWebhook(core, bind, check, resync, settings -> settings);
    }

    /** {@code injection}: changes to the injector's defaults ({@code septa serve --proxy-image/--septa-image}). */
    public WebhookServer serveWebhook(ControlPlaneCore core, InetSocketAddress bind, Duration check, Duration resync,
                                      java.util.function.UnaryOperator<InjectionSettings> injection) throws IOException {
        var certificates = core.certificates();
        java.util.function.Supplier<String> trustDomain =
                () -> core.meshState().mesh().map(m -> m.config().trustDomain()).orElse(MeshConfig.DEFAULT.trustDomain());
        java.util.function.Supplier<Object> generation = certificates::generation;
        // The injector carries the trust domain (SPIFFE IDs in the bootstrap); rebuild it only when that changes.
        AtomicReference<java.util.Map.Entry<String, AdmissionReviewHandler>> handler = new AtomicReference<>();
        java.util.function.Supplier<AdmissionReviewHandler> handlers = () -> handler.updateAndGet(h -> {
            String td = trustDomain.get();
            return h != null && h.getKey().equals(td) ? h
                    : java.util.Map.entry(td, new AdmissionReviewHandler(new PodInjector(injection.apply(InjectionSettings.defaults(td)))));
        }).getValue();
        webhook = new WebhookServer(bind, () -> certificates.issueServing(
                SpiffeId.controlPlane(trustDomain.get()),
                WebhookServer.DNS_NAMES, List.of()), generation, handlers, Clock.systemUTC()).start(check);
        webhookCaBundle = new WebhookCaBundlePublisher(client, certificates::trustBundlePem, check, resync)
                .writeOnlyWhile(() -> mayWrite.getAsBoolean()).start();
        return webhook;
    }

    /**
     * Kubernetes mode as a part of {@code septa serve} ({@code ControlPlaneOptions.Builder.contribute}): once the
     * control plane serves, {@link #attach} and {@link #serveWebhook} on {@code webhookBind} (checked every second,
     * resynced every minute); closed after the control plane.
     */
    public ServeContribution contribution(InetSocketAddress webhookBind, UnaryOperator<InjectionSettings> injection) {
        return new ServeContribution() {
            @Override
            public void beforeStart(ControlPlaneCore core) {
                core.leadRotationOnlyWhile(() -> mayWrite.getAsBoolean());
            }

            @Override
            public void started(ControlPlaneCore core) {
                attach(core, Duration.ofSeconds(1), Duration.ofMinutes(1));
                try {
                    serveWebhook(core, webhookBind, Duration.ofSeconds(1), Duration.ofMinutes(1), injection);
                } catch (IOException | RuntimeException e) {
                    throw new StartException("cannot serve the webhook on " + webhookBind.getHostString() + ":"
                            + webhookBind.getPort(), e);
                }
            }

            @Override
            public void close() {
                KubernetesMode.this.close();
            }
        };
    }

    /** Writes status onto Septa's custom resources once {@link #attach} ran, else null. */
    public CustomResourceStatusPublisher statuses() {
        return statuses;
    }

    /** The injection webhook once {@link #serveWebhook} started it, else null. */
    public WebhookServer webhook() {
        return webhook;
    }

    @Override
    public void close() {
        if (election != null) {
            election.close(); // first: not one more write while the rest stops
        }
        if (webhookCaBundle != null) {
            webhookCaBundle.close();
        }
        if (webhook != null) {
            webhook.close();
        }
        if (trustBundles != null) {
            trustBundles.close();
        }
        if (statuses != null) {
            statuses.close();
        }
        source.close();
    }
}
