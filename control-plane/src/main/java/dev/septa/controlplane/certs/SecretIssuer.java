package dev.septa.controlplane.certs;

import dev.septa.controlplane.publish.MeshState;
import dev.septa.controlplane.xds.ProxyConfigCache;
import dev.septa.controlplane.xds.SecretSource;
import dev.septa.controlplane.xds.TypeResources;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issues each connected workload its SDS secrets: {@code default} (its SVID and a key pair made for it) and
 * {@code ROOTCA} (the trust bundle). Reissues when half the certificate's lifetime has passed or when the mesh
 * gives the workload another identity. Issuing runs on its own thread, never under the xDS cache's lock.
 */
public final class SecretIssuer implements SecretSource, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SecretIssuer.class);

    private final WorkloadCertificates certificates;
    private final MeshState mesh;
    private final ProxyConfigCache cache;
    private final Clock clock;
    private final Listener listener;
    private final ExecutorService issuing = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("septa-sds").factory());
    private final ScheduledExecutorService rotation = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("septa-rotate").factory());
    private final Map<String, KeyedCertificate> issued = new ConcurrentHashMap<>();

    /** Metrics hook. */
    public interface Listener {
        void issued(String nodeId, KeyedCertificate certificate);

        Listener NONE = (n, c) -> { };
    }

    public SecretIssuer(WorkloadCertificates certificates, MeshState mesh, ProxyConfigCache cache, Clock clock, Listener listener) {
        this.certificates = certificates;
        this.mesh = mesh;
        this.cache = cache;
        this.clock = clock;
        this.listener = listener;
        rotation.scheduleWithFixedDelay(this::refreshAll, 1, 1, TimeUnit.SECONDS);
    }

    @Override
    public void requestSecrets(String nodeId) {
        issuing.execute(() -> refresh(nodeId));
    }

    /** After a new mesh: identities may have changed, and nodes unknown before may now be known. */
    public void meshChanged() {
        issuing.execute(this::refreshAllNow);
    }

    public Optional<Instant> nearestExpiry() {
        return issued.values().stream().map(KeyedCertificate::notAfter).min(Instant::compareTo);
    }

    private void refreshAll() {
        issuing.execute(this::refreshAllNow);
    }

    private void refreshAllNow() {
        issued.keySet().retainAll(cache.connectedNodes());
        for (String nodeId : cache.connectedNodes()) {
            refresh(nodeId);
        }
    }

    private void refresh(String nodeId) {
        try {
            Optional<String> spiffeId = mesh.spiffeId(nodeId);
            if (spiffeId.isEmpty()) {
                return; // not in the inventory (yet): no identity to certify
            }
            KeyedCertificate current = issued.get(nodeId);
            if (current != null && current.spiffeId().equals(spiffeId.get()) && !dueForRotation(current)) {
                cache.publishSecrets(nodeId, secrets(current), current.notAfter());
                return;
            }
            Duration ttl = mesh.mesh().map(m -> m.config().certificateTTL()).orElse(Duration.ofHours(1));
            KeyedCertificate fresh = certificates.issueWorkload(spiffeId.get(), ttl);
            issued.put(nodeId, fresh);
            listener.issued(nodeId, fresh);
            cache.publishSecrets(nodeId, secrets(fresh), fresh.notAfter());
        } catch (RuntimeException e) {
            LOG.error("could not issue the certificate of {}: {}", nodeId, e.getMessage());
        }
    }

    private boolean dueForRotation(KeyedCertificate cert) {
        Duration lifetime = Duration.between(cert.notBefore(), cert.notAfter());
        return !clock.instant().isBefore(cert.notBefore().plus(lifetime.dividedBy(2)));
    }

    private TypeResources secrets(KeyedCertificate cert) {
        Secret svid = Secret.newBuilder().setName("default").setTlsCertificate(TlsCertificate.newBuilder()
                .setCertificateChain(DataSource.newBuilder().setInlineString(cert.certificateChainPem()))
                .setPrivateKey(DataSource.newBuilder().setInlineString(cert.privateKeyPem()))).build();
        Secret roots = Secret.newBuilder().setName("ROOTCA").setValidationContext(CertificateValidationContext.newBuilder()
                .setTrustedCa(DataSource.newBuilder().setInlineString(certificates.trustBundlePem()))).build();
        return TypeResources.of(List.of(svid, roots));
    }

    @Override
    public void close() {
        rotation.shutdownNow();
        issuing.shutdownNow();
    }
}
