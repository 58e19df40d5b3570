package dev.septa.e2e.support;

import com.google.protobuf.ByteString;
import dev.septa.ca.CaConfig;
import dev.septa.ca.CertificateAuthority;
import dev.septa.ca.InMemoryCaKeyStore;
import dev.septa.identity.SpiffeId;
import dev.septa.ca.WorkloadCredential;
import dev.septa.demo.ControlPlaneAccess;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.CompiledProxy;
import dev.septa.policy.emit.ProxyResources;
import dev.septa.policy.model.Workload;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.grpc.Server;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in control plane for tests of the demo workloads themselves: java-control-plane's SimpleCache serving
 * the compiler's proxyless resources per node id, plus SDS secrets from Septa's CA, over TLS. No authentication,
 * no debounce, no NACK handling: the real one is {@code septa serve}.
 */
public final class StaticXdsServer implements ControlPlaneAccess, AutoCloseable {
    private final CertificateAuthority ca;
    private final SimpleCache<String> cache = new SimpleCache<>(node -> node.getId());
    private final Map<String, WorkloadCredential> credentials = new ConcurrentHashMap<>();
    private final AtomicInteger version = new AtomicInteger();
    private final Server server;

    public StaticXdsServer(CompiledMesh compiled) throws IOException {
        String trustDomain = compiled.mesh().config().trustDomain();
        ca = CertificateAuthority.open(new InMemoryCaKeyStore(), CaConfig.forTrustDomain(trustDomain));
        publish(compiled);
        var servingKey = generateKey();
        var serving = ca.issueServingCertificate(servingKey.getPublic(), SpiffeId.of(trustDomain, "septa-system", "control-plane"),
                List.of("localhost"), List.of(InetAddress.getByName("127.0.0.1")), Duration.ofHours(1));
        String keyPem = "-----BEGIN PRIVATE KEY-----\n"
                + java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(servingKey.getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
        var credentials = TlsServerCredentials.newBuilder()
                .keyManager(stream(serving.certificateChainPem()), stream(keyPem))
                .trustManager(stream(trustBundlePem()))
                .clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL).build();
        var discovery = new V3DiscoveryServer(cache);
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), credentials)
                .addService(discovery.getAggregatedDiscoveryServiceImpl())
                .addService(discovery.getSecretDiscoveryServiceImpl())
                .build().start();
    }

    /** Serves {@code compiled} to every proxy (a new version; the same key and certificate per workload). */
    public void publish(CompiledMesh compiled) {
        String next = String.valueOf(version.incrementAndGet());
        for (Workload workload : compiled.mesh().workloads()) {
            CompiledProxy proxy = compiled.proxies().get(workload.id());
            if (proxy == null) {
                continue;
            }
            var credential = credentials.computeIfAbsent(workload.id(), id -> ca.issueWorkloadCredential(
                    SpiffeId.of(compiled.mesh().config().trustDomain(), workload.metadata().namespace(), workload.serviceAccount())));
            ProxyResources grpc = proxy.grpc();
            cache.setSnapshot(workload.id(), Snapshot.create(grpc.clusters(), grpc.endpoints(), grpc.listeners(), grpc.routes(),
                    List.of(svid(credential), root()), next));
        }
    }

    private Secret svid(WorkloadCredential credential) {
        return Secret.newBuilder().setName("default").setTlsCertificate(TlsCertificate.newBuilder()
                .setCertificateChain(DataSource.newBuilder().setInlineBytes(ByteString.copyFromUtf8(credential.certificate().certificateChainPem())))
                .setPrivateKey(DataSource.newBuilder().setInlineBytes(ByteString.copyFromUtf8(credential.privateKeyPkcs8Pem()))))
                .build();
    }

    private Secret root() {
        return Secret.newBuilder().setName("ROOTCA").setValidationContext(CertificateValidationContext.newBuilder()
                .setTrustedCa(DataSource.newBuilder().setInlineBytes(ByteString.copyFromUtf8(trustBundlePem())))).build();
    }

    private static java.security.KeyPair generateKey() {
        try {
            var generator = java.security.KeyPairGenerator.getInstance("EC");
            generator.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ByteArrayInputStream stream(String pem) {
        return new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII));
    }

    @Override
    public String host() {
        return "127.0.0.1";
    }

    @Override
    public int port() {
        return server.getPort();
    }

    @Override
    public String trustBundlePem() {
        return ca.trustBundle().toPem();
    }

    @Override
    public String mintToken(String nodeId) {
        return "static-" + nodeId;
    }

    @Override
    public void close() {
        server.shutdownNow();
    }
}
