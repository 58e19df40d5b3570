package dev.septa.sidecar.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.sidecar.bootstrap.CertificateFileLayout;
import dev.septa.sidecar.bootstrap.ControlPlaneEndpoint;
import dev.septa.sidecar.bootstrap.ProxyNode;
import dev.septa.sidecar.grpc.PeerIdentities;
import dev.septa.sidecar.testing.TestPki;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lock-out after a control-plane restart (issue 16): an agent must reach the control plane again with what it
 * holds (its SVID, the last bundle it wrote, the bootstrap's bundle and its token), whichever verifies. Each case
 * fixes the timing that the e2e restart test hit by chance: the agent starts with files left from before the outage.
 */
class SdsAgentReconnectTest {
    static final String ID = "spiffe://cluster.local/ns/shop/sa/payments";
    static final String CP_ID = "spiffe://cluster.local/ns/septa-system/sa/control-plane";
    final SimpleCache<String> cache = new SimpleCache<>(node -> node.getId());
    final List<String> authentications = new CopyOnWriteArrayList<>();
    final List<String> events = new CopyOnWriteArrayList<>();
    Server server;
    SdsAgent agent;

    @TempDir Path dir;

    @AfterEach
    void stop() {
        if (agent != null) agent.close();
        if (server != null) server.shutdownNow();
    }

    /**
     * The e2e failure: the SVID lapsed while the control plane was down (10 s certificates, a slow restart), and the
     * bootstrap's bundle predates a root rotation. The agent used to drop the bundle it wrote together with the
     * expired certificate, verify the control plane with the bootstrap's stale root alone, and fail every handshake.
     */
    @Test
    void anSvidThatLapsedDuringTheOutageStillLeavesTheBundleItWroteToVerifyTheControlPlane() throws Exception {
        TestPki bootstrapRoot = new TestPki("root-before-rotation");
        TestPki currentRoot = new TestPki("root-after-rotation");
        hold(currentRoot.issue(ID, Duration.ofSeconds(-5)), currentRoot);
        int port = serve(currentRoot, currentRoot);

        agent = agent(port, bootstrapRoot, Optional.of("token-1"));
        publish(currentRoot.issue(ID), currentRoot);

        assertThat(agent.awaitFirstWrite(Duration.ofSeconds(30))).as(events.toString()).isTrue();
        assertThat(authentications).contains("Bearer token-1");
    }

    /** The SVID expires within the handshake margin: the token comes first, trusting the bundle the agent wrote. */
    @Test
    void anSvidAboutToExpireGivesWayToTheTokenWithTheBundleItWrote() throws Exception {
        TestPki bootstrapRoot = new TestPki("root-before-rotation");
        TestPki currentRoot = new TestPki("root-after-rotation");
        hold(currentRoot.issue(ID, Duration.ofSeconds(2)), currentRoot);
        int port = serve(currentRoot, currentRoot);

        agent = agent(port, bootstrapRoot, Optional.of("token-2"));
        publish(currentRoot.issue(ID), currentRoot);

        assertThat(agent.awaitFirstWrite(Duration.ofSeconds(30))).as(events.toString()).isTrue();
    }

    /**
     * The bundle on disk no longer verifies the control plane (its state was restored from before a rotation) and the
     * control plane no longer trusts the SVID's root: the bootstrap's bundle and the token still get the agent in.
     */
    @Test
    void whenTheBundleOnDiskNoLongerVerifiesTheBootstrapsBundleAndTheTokenStillDo() throws Exception {
        TestPki bootstrapRoot = new TestPki("bootstrap-root");
        TestPki otherRoot = new TestPki("root-on-disk");
        hold(otherRoot.issue(ID), otherRoot);
        int port = serve(bootstrapRoot, bootstrapRoot);

        agent = agent(port, bootstrapRoot, Optional.of("token-3"));
        publish(bootstrapRoot.issue(ID), bootstrapRoot);

        assertThat(agent.awaitFirstWrite(Duration.ofSeconds(60))).as(events.toString()).isTrue();
        assertThat(authentications).contains("Bearer token-3");
    }

    /** No token left (it expired long ago): the valid SVID and the bundle it came with are enough. */
    @Test
    void withoutATokenAValidSvidAndItsBundleReconnect() throws Exception {
        TestPki bootstrapRoot = new TestPki("root-before-rotation");
        TestPki currentRoot = new TestPki("root-after-rotation");
        hold(currentRoot.issue(ID), currentRoot);
        int port = serve(currentRoot, currentRoot);

        agent = agent(port, bootstrapRoot, Optional.empty());
        publish(currentRoot.issue(ID), currentRoot);

        assertThat(agent.awaitFirstWrite(Duration.ofSeconds(30))).as(events.toString()).isTrue();
        assertThat(authentications).contains("cert " + ID);
    }

    /** Files as a previous run of the agent left them. */
    private void hold(TestPki.Leaf leaf, TestPki root) throws Exception {
        new CertificateFileWriter(new CertificateFileLayout(dir))
                .write(CertificateBundle.verified(leaf.certPem(), leaf.keyPem(), root.rootPem()));
    }

    /** An SDS server whose certificate comes from {@code signer} and which trusts client certificates of {@code trusted}. */
    private int serve(TestPki signer, TestPki trusted) throws Exception {
        TestPki.Leaf serving = signer.issue(CP_ID, "dns:localhost", "ip:127.0.0.1");
        var discovery = new V3DiscoveryServer(cache);
        ServerInterceptor record = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                String bearer = headers.get(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER));
                String presented = bearer != null ? bearer
                        : PeerIdentities.spiffeId(call.getAttributes()).map(id -> "cert " + id).orElse("none");
                authentications.add(presented);
                if (presented.equals("none")) {
                    // As septa serve does: an untrusted client certificate is no credential (TLS only requests one).
                    call.close(Status.UNAUTHENTICATED.withDescription("no credential"), new Metadata());
                    return new ServerCall.Listener<>() { };
                }
                return next.startCall(call, headers);
            }
        };
        var creds = TlsServerCredentials.newBuilder()
                .keyManager(stream(serving.certPem()), stream(serving.keyPem()))
                .trustManager(stream(trusted.rootPem()))
                .clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL).build();
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), creds)
                .addService(ServerInterceptors.intercept(discovery.getSecretDiscoveryServiceImpl(), record))
                .build().start();
        return ((InetSocketAddress) server.getListenSockets().getFirst()).getPort();
    }

    private void publish(TestPki.Leaf leaf, TestPki root) {
        var svid = Secret.newBuilder().setName(SdsAgent.SVID).setTlsCertificate(TlsCertificate.newBuilder()
                .setCertificateChain(DataSource.newBuilder().setInlineString(leaf.certPem()))
                .setPrivateKey(DataSource.newBuilder().setInlineString(leaf.keyPem()))).build();
        var bundle = Secret.newBuilder().setName(SdsAgent.TRUST_BUNDLE).setValidationContext(CertificateValidationContext.newBuilder()
                .setTrustedCa(DataSource.newBuilder().setInlineString(root.rootPem()))).build();
        cache.setSnapshot("shop/payments-1", Snapshot.create(List.of(), List.of(), List.of(), List.of(), List.of(svid, bundle), "v1"));
    }

    private SdsAgent agent(int port, TestPki bootstrapRoot, Optional<String> token) {
        var listener = new SdsAgent.Listener() {
            @Override public void connected(String authentication) { events.add("connected " + authentication); }
            @Override public void written(CertificateBundle bundle) { events.add("written " + bundle.notAfter()); }
            @Override public void failed(String message) { events.add("failed " + message); }
        };
        return new SdsAgent(new ProxyNode("shop", "payments-1", Map.of("app", "payments"), "payments"),
                new ControlPlaneEndpoint("127.0.0.1", port, bootstrapRoot.rootPem()), () -> token,
                new CertificateFileLayout(dir), listener).start();
    }

    private static ByteArrayInputStream stream(String pem) {
        return new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII));
    }
}
