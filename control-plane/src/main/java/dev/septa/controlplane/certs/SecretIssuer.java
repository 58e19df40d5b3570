package dev.septa.controlplane.certs;

import dev.septa.ca.RenewalSchedule;
import dev.septa.ca.RetryBackoff;
import dev.septa.controlplane.publish.MeshState;
import dev.septa.controlplane.xds.ProxyConfigCache;
import dev.septa.controlplane.xds.SecretSink;
import dev.septa.controlplane.xds.SecretSource;
import dev.septa.controlplane.xds.TypeResources;
import dev.septa.identity.KeyedCertificate;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issues each connected workload its SDS secrets: {@code default} (its SVID and a key pair made for it) and
 * {@code ROOTCA} (the trust bundle), and renews the SVID before it expires.
 *
 * <p>Renewal follows {@link RenewalSchedule}: each certificate gets its own renewal instant, drawn once at issuance
 * at 50 % ± 10 % of its lifetime, so a fleet issued together renews spread over a fifth of the lifetime. A tick
 * (every {@link Options#tick()}) renews what is due and pushes it over SDS; it takes the due nodes from a
 * {@link RenewalQueue} ordered by due time, so a tick costs what is due, never a walk over the fleet. A workload
 * disconnected past its renewal instant is renewed when it reconnects (its node asks for secrets, the certificate is
 * found due); its certificate is kept for such a reconnect until it expires. A failed
 * issuance is retried after {@link RetryBackoff} and reported to the {@link Listener} and {@link #renewals()} at
 * once, so it shows in metrics and {@code septa status} while the old certificate still has about half its life.
 * The TTL is read from the mesh at each issuance: a new {@code certificateTTL} applies to certificates issued from
 * then on. Issuing runs on its own thread, never under the xDS cache's lock.
 */
public final class SecretIssuer implements SecretSource, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SecretIssuer.class);

    /**
     * Tuning. {@code ttlOverride}: when not null, the lifetime of every workload certificate instead of the mesh's
     * {@code certificateTTL} (seconds-long lifetimes for tests and demos).
     */
    public record Options(RenewalSchedule schedule, RetryBackoff backoff, Duration tick, Duration ttlOverride,
                          DoubleSupplier random) {
        public static final Options DEFAULT = new Options(RenewalSchedule.DEFAULT, RetryBackoff.DEFAULT,
                Duration.ofMillis(200), null, () -> java.util.concurrent.ThreadLocalRandom.current().nextDouble());

        public Options withTtlOverride(Duration ttl) {
            return new Options(schedule, backoff, tick, ttl, random);
        }
    }

    /** A node's certificate as the renewal loop sees it; what {@code septa status} shows. */
    public record Renewal(String nodeId, String spiffeId, Instant notAfter, Instant renewAt, int failures,
                          String lastError, Instant retryAt) {
        public boolean failing() {
            return failures > 0;
        }
    }

    /** Metrics hook. */
    public interface Listener {
        void issued(String nodeId, KeyedCertificate certificate);

        /** Issuance for {@code nodeId} failed for the {@code failures}-th time in a row; next try at {@code retryAt}. */
        default void renewalFailed(String nodeId, String error, int failures, Instant retryAt) {
        }

        Listener NONE = (n, c) -> { };
    }

    /** Per node; replaced whole, read without locks. */
    private record NodeCert(KeyedCertificate cert, Instant renewAt, int failures, String lastError, Instant retryAt) {
        NodeCert dueBy(Instant deadline) {
            return deadline.isBefore(renewAt) ? new NodeCert(cert, deadline, failures, lastError, retryAt) : this;
        }

        String signer() {
            return cert == null ? null : cert.signer();
        }

        /** When the renewal loop next has something to do for this node: its renewal, or its retry after a failure. */
        Instant nextAction() {
            return retryAt != null && retryAt.isAfter(renewAt) ? retryAt : renewAt;
        }
    }

    private final WorkloadCertificates certificates;
    private final Identities mesh;
    private final SecretSink cache;
    private final Clock clock;
    private final Listener listener;
    private final Options options;
    private final ExecutorService issuing = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("septa-sds").factory());
    private final ScheduledExecutorService rotation = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("septa-rotate").factory());
    private final Map<String, NodeCert> nodes = new ConcurrentHashMap<>();
    /** The trust bundle last published to each node (root rotation waits until every node has the new one). */
    private final Map<String, String> bundleSent = new ConcurrentHashMap<>();
    /**
     * Quarantined nodes whose certificate fell due: not renewed, so it dies at its expiry; skipped by the tick until
     * the quarantine is lifted (a mesh change), when the certificate, still due, is renewed at once.
     */
    private final java.util.Set<String> withheld = ConcurrentHashMap.newKeySet();
    /**
     * Per node, what its last few SDS versions carried (bundle and signer), so a rotation stage can tell whether the
     * version a stream ACKed holds the stage's bundle: a later renewal still awaiting its ACK does not undo that.
     */
    private final Map<String, Map<String, Carried>> carried = new ConcurrentHashMap<>();
    private static final int CARRIED_PER_NODE = 16;

    private record Carried(String bundle, String signer) {}
    /**
     * Every node with a certificate (or a failed first issuance) by its {@link NodeCert#nextAction()}, withheld nodes
     * excepted. Read and written on the issuing thread only, like {@link #nodes}' updates.
     */
    private final RenewalQueue queue = new RenewalQueue();

    public SecretIssuer(WorkloadCertificates certificates, MeshState mesh, ProxyConfigCache cache, Clock clock, Listener listener) {
        this(certificates, mesh, cache, clock, listener, Options.DEFAULT);
    }

    /** Who a node is and how long its certificate lives: the mesh in force, or a fixed table in tests. */
    public interface Identities {
        Optional<String> spiffeId(String nodeId);

        /** The mesh's {@code certificateTTL}. */
        Duration certificateTtl();

        /** Whether the node's workload is quarantined: its certificate is then neither issued nor renewed. */
        default boolean quarantined(String nodeId) {
            return false;
        }

        static Identities of(MeshState mesh) {
            return new Identities() {
                @Override
                public Optional<String> spiffeId(String nodeId) {
                    return mesh.spiffeId(nodeId);
                }

                @Override
                public Duration certificateTtl() {
                    return mesh.mesh().map(m -> m.config().certificateTTL()).orElse(Duration.ofHours(1));
                }

                @Override
                public boolean quarantined(String nodeId) {
                    return mesh.quarantined(nodeId);
                }
            };
        }
    }

    public SecretIssuer(WorkloadCertificates certificates, MeshState mesh, ProxyConfigCache cache, Clock clock, Listener listener,
                        Options options) {
        this(certificates, Identities.of(mesh), cache, clock, listener, options);
    }

    public SecretIssuer(WorkloadCertificates certificates, Identities mesh, SecretSink cache, Clock clock, Listener listener,
                        Options options) {
        this.certificates = certificates;
        this.mesh = mesh;
        this.cache = cache;
        this.clock = clock;
        this.listener = listener;
        this.options = options;
        long tick = options.tick().toMillis();
        rotation.scheduleWithFixedDelay(() -> issuing.execute(this::renewDue), tick, tick, TimeUnit.MILLISECONDS);
    }

    @Override
    public void requestSecrets(String nodeId) {
        issuing.execute(() -> refresh(nodeId, true));
    }

    /**
     * After a new mesh: identities may have changed, and nodes unknown before may now be known; those are certified.
     * A node whose certificate still fits is not sent it again: building and hashing every node's secrets on every
     * edit cost as much as the edit at 10,000 nodes, to change nothing.
     */
    public void meshChanged() {
        issuing.execute(() -> refreshAll(false));
    }

    /** After the trust bundle changed: every connected node gets the new {@code ROOTCA}. */
    public void trustBundleChanged() {
        issuing.execute(() -> refreshAll(true));
    }

    public Optional<Instant> nearestExpiry() {
        var connected = cache.connectedNodes();
        return nodes.entrySet().stream().filter(e -> connected.contains(e.getKey())).map(Map.Entry::getValue).filter(n -> n.cert() != null).map(n -> n.cert().notAfter()).min(Instant::compareTo);
    }

    /** Every connected node's certificate and renewal state, failing ones first. */
    public List<Renewal> renewals() {
        var connected = cache.connectedNodes();
        return nodes.entrySet().stream().filter(e -> connected.contains(e.getKey()))
                .map(e -> {
                    NodeCert n = e.getValue();
                    return new Renewal(e.getKey(), n.cert() == null ? null : n.cert().spiffeId(),
                            n.cert() == null ? null : n.cert().notAfter(), n.renewAt(), n.failures(), n.lastError(), n.retryAt());
                })
                .sorted(Comparator.comparing((Renewal r) -> !r.failing()).thenComparing(Renewal::nodeId))
                .toList();
    }

    /**
     * Root rotation, stage 3 (the CA signs with its successor): every certificate falls due at a random instant within
     * {@code window} from now (or at its own renewal instant, if sooner), so the fleet is re-issued at an even pace
     * rather than in one burst that would queue every ordinary renewal behind it.
     */
    public void reissueAll(Duration window) {
        issuing.execute(() -> {
            Instant now = clock.instant();
            long spread = Math.max(0, window.toMillis());
            nodes.replaceAll((id, n) -> n.dueBy(now.plusMillis((long) (options.random().getAsDouble() * spread))));
            nodes.forEach((id, n) -> {
                if (!withheld.contains(id)) {
                    queue.schedule(id, n.nextAction());
                }
            });
            refreshAll(false);
        });
    }

    /**
     * Connected workloads not yet given {@code bundlePem}, or (when {@code signer} is not null) whose certificate
     * was not signed by {@code signer} (a {@link CaWorkloadCertificates#fingerprint}): what a rotation stage waits for.
     */
    public java.util.Set<String> behind(String bundlePem, String signer) {
        java.util.Set<String> out = new java.util.TreeSet<>();
        for (String nodeId : cache.connectedNodes()) {
            if (mesh.spiffeId(nodeId).isEmpty()) {
                continue; // no identity, no secrets: nothing to wait for
            }
            NodeCert n = nodes.get(nodeId);
            if (n == null || n.cert() == null || !bundlePem.equals(bundleSent.get(nodeId))
                    || (signer != null && !signer.equals(n.signer()))) {
                out.add(nodeId);
            }
        }
        return out;
    }

    /**
     * Nodes (of {@code acked}: node id -> the SDS version each of its streams last ACKed, null for none) with a stream
     * whose ACKed secrets do not carry {@code bundlePem}, or (when {@code signer} is not null) a certificate from
     * {@code signer}. What a rotation stage waits for besides {@link #behind}. Only the ACKed version counts, not the
     * latest push: with short-lived certificates a renewal is nearly always in flight somewhere in the fleet.
     */
    public java.util.Set<String> notHolding(String bundlePem, String signer, Map<String, List<String>> acked) {
        java.util.Set<String> out = new java.util.TreeSet<>();
        acked.forEach((nodeId, versions) -> {
            if (mesh.spiffeId(nodeId).isEmpty()) {
                return; // no identity, no secrets: nothing to wait for
            }
            Map<String, Carried> known = carried.getOrDefault(nodeId, Map.of());
            for (String version : versions) {
                Carried c = version == null ? null : known.get(version);
                if (c == null || !c.bundle().equals(bundlePem) || (signer != null && !signer.equals(c.signer()))) {
                    out.add(nodeId);
                }
            }
        });
        return out;
    }

    /** Nodes whose certificate is due but withheld because they are quarantined. */
    public java.util.Set<String> withheld() {
        return java.util.Set.copyOf(withheld);
    }

    /** Runs the renewal pass now, on the caller's thread (tests with a manual clock). */
    public void renewDueNow() throws InterruptedException {
        var done = new java.util.concurrent.CountDownLatch(1);
        issuing.execute(() -> {
            try {
                renewDue();
            } finally {
                done.countDown();
            }
        });
        done.await();
    }

    /** The tick: only the nodes whose next action is due are looked at, earliest first. */
    private void renewDue() {
        Instant now = clock.instant();
        for (String nodeId : queue.takeDue(now)) {
            NodeCert n = nodes.get(nodeId);
            if (n == null) {
                continue;
            }
            if (!cache.connected(nodeId)) {
                // Away: the certificate is kept for a reconnect (which renews it then if due) until it expires.
                if (n.cert() == null || !now.isBefore(n.cert().notAfter())) {
                    forget(nodeId);
                } else {
                    queue.schedule(nodeId, n.cert().notAfter());
                }
                continue;
            }
            refresh(nodeId, false);
            requeue(nodeId, now);
        }
    }

    /**
     * Queues a node whose next action lies ahead and that is not queued: one found not due, say. A withheld node
     * waits for a mesh change instead; a node without identity is looked at again when the mesh gives it one.
     */
    private void requeue(String nodeId, Instant now) {
        NodeCert n = nodes.get(nodeId);
        if (n != null && !queue.contains(nodeId) && !withheld.contains(nodeId) && n.nextAction().isAfter(now)) {
            queue.schedule(nodeId, n.nextAction());
        }
    }

    private void forget(String nodeId) {
        nodes.remove(nodeId);
        queue.remove(nodeId);
        bundleSent.remove(nodeId);
        withheld.remove(nodeId);
        carried.remove(nodeId);
    }

    private void refreshAll(boolean republish) {
        var connected = cache.connectedNodes();
        Instant now = clock.instant();
        // A node that went away keeps its certificate while it is valid: a reconnect (or a flapping stream) reuses
        // it instead of costing an issuance, and is renewed then if it passed its renewal instant meanwhile.
        for (String nodeId : List.copyOf(nodes.keySet())) {
            NodeCert n = nodes.get(nodeId);
            if (!connected.contains(nodeId) && (n.cert() == null || !now.isBefore(n.cert().notAfter()))) {
                forget(nodeId);
            }
        }
        bundleSent.keySet().retainAll(connected);
        withheld.retainAll(connected);
        carried.keySet().retainAll(connected);
        for (String nodeId : connected) {
            refresh(nodeId, republish);
            requeue(nodeId, now);
        }
    }

    private void refresh(String nodeId, boolean republish) {
        Optional<String> spiffeId = mesh.spiffeId(nodeId);
        if (spiffeId.isEmpty()) {
            return; // not in the inventory (yet): no identity to certify
        }
        Instant now = clock.instant();
        NodeCert current = nodes.get(nodeId);
        KeyedCertificate cert = current == null ? null : current.cert();
        boolean sameIdentity = cert != null && cert.spiffeId().equals(spiffeId.get());
        boolean due = !sameIdentity || !now.isBefore(current.renewAt());
        if (!due) {
            if (republish) {
                publish(nodeId, cert);
            }
            return;
        }
        if (mesh.quarantined(nodeId)) {
            if (withheld.add(nodeId)) {
                LOG.warn("{} is quarantined: its certificate is not {}{}", nodeId, sameIdentity ? "renewed" : "issued",
                        sameIdentity ? " and expires " + cert.notAfter() : "");
            }
            if (republish && sameIdentity && now.isBefore(cert.notAfter())) {
                publish(nodeId, cert); // the trust bundle may have changed; the certificate stays the one it has
            }
            return;
        }
        withheld.remove(nodeId);
        if (current != null && current.retryAt() != null && now.isBefore(current.retryAt())) {
            if (republish && sameIdentity) {
                publish(nodeId, cert); // backing off: the old one is still valid
            }
            return;
        }
        try {
            refuseControlPlaneIdentity(nodeId, spiffeId.get());
            Duration ttl = options.ttlOverride() != null ? options.ttlOverride() : mesh.certificateTtl();
            KeyedCertificate fresh = certificates.issueWorkload(spiffeId.get(), ttl);
            Instant renewAt = options.schedule().renewAt(fresh.notBefore(), fresh.notAfter(), options.random().getAsDouble());
            remember(nodeId, new NodeCert(fresh, renewAt, 0, null, null));
            listener.issued(nodeId, fresh);
            publish(nodeId, fresh);
        } catch (RuntimeException e) {
            int failures = current == null ? 1 : current.failures() + 1;
            Instant retryAt = now.plus(options.backoff().delay(failures, options.random().getAsDouble()));
            String error = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            // Keep the old certificate (still valid for about half its life) and its renewal instant.
            remember(nodeId, new NodeCert(sameIdentity ? cert : null, sameIdentity ? current.renewAt() : now, failures, error, retryAt));
            LOG.error("could not issue the certificate of {} (attempt {}, next at {}; current certificate expires {}): {}",
                    nodeId, failures, retryAt, sameIdentity ? cert.notAfter() : "-", error);
            try {
                listener.renewalFailed(nodeId, error, failures, retryAt);
            } catch (RuntimeException ignored) {
                // metrics must not stop renewal
            }
        }
    }

    /**
     * Validation already refuses such a workload; this holds for any other way an identity reaches here. An SVID
     * naming the control plane would pass every sidecar's check of the control plane's certificate.
     */
    static void refuseControlPlaneIdentity(String nodeId, String spiffeId) {
        dev.septa.identity.SpiffeId id = dev.septa.identity.SpiffeId.parse(spiffeId);
        if (dev.septa.policy.model.MeshConfig.isControlPlaneIdentity(id.namespace(), id.serviceAccount())) {
            throw new IllegalArgumentException("refused to issue " + spiffeId + " to workload " + nodeId
                    + ": it is the control plane's own identity");
        }
    }

    private void remember(String nodeId, NodeCert cert) {
        nodes.put(nodeId, cert);
        queue.schedule(nodeId, cert.nextAction());
    }

    private void publish(String nodeId, KeyedCertificate cert) {
        String bundle = certificates.trustBundlePem();
        TypeResources secrets = secrets(cert, bundle);
        // Recorded before the push: the ACK may come back before publishSecrets returns.
        carried.computeIfAbsent(nodeId, n -> java.util.Collections.synchronizedMap(new java.util.LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Carried> eldest) {
                return size() > CARRIED_PER_NODE;
            }
        })).put(secrets.version(), new Carried(bundle, cert.signer()));
        cache.publishSecrets(nodeId, secrets, cert.notAfter());
        bundleSent.put(nodeId, bundle);
    }

    private TypeResources secrets(KeyedCertificate cert, String bundle) {
        Secret svid = Secret.newBuilder().setName("default").setTlsCertificate(TlsCertificate.newBuilder()
                .setCertificateChain(DataSource.newBuilder().setInlineString(cert.certificateChainPem()))
                .setPrivateKey(DataSource.newBuilder().setInlineString(cert.privateKeyPem()))).build();
        Secret roots = Secret.newBuilder().setName("ROOTCA").setValidationContext(CertificateValidationContext.newBuilder()
                .setTrustedCa(DataSource.newBuilder().setInlineString(bundle))).build();
        return TypeResources.of(List.of(svid, roots));
    }

    @Override
    public void close() {
        rotation.shutdownNow();
        issuing.shutdownNow();
    }
}
