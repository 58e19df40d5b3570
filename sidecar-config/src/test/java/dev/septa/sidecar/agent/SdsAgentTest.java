package dev.septa.sidecar.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
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
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent against a real SDS server (java-control-plane over TLS), the way `septa serve` answers it. */
class SdsAgentTest {
    static final String ID = "spiffe://cluster.local/ns/shop/sa/payments";
    final TestPki pki = new TestPki("agent-test-root");
    final SimpleCache<String> cache = new SimpleCache<>(node -> node.getId());
    final List<String> authentications = new CopyOnWriteArrayList<>();
    final List<String> nacks = new CopyOnWriteArrayList<>();
    final List<String> events = new CopyOnWriteArrayList<>();
    Server server;
    SdsAgent agent;
    Path cpDir;
    int port;

    @TempDir Path dir;

    @AfterEach
    void stop() {
        if (agent != null) agent.close();
        if (server != null) server.shutdownNow();
    }

    void startServer() throws Exception {
        if (cpDir == null) {
            cpDir = pki.writeFiles(pki.issue("spiffe://cluster.local/ns/septa-system/sa/control-plane", "dns:localhost", "ip:127.0.0.1"),
                    Files.createTempDirectory("cp"));
            try (var socket = new ServerSocket(0)) {
                port = socket.getLocalPort();
            }
        }
        DiscoveryServerCallbacks callbacks = new DiscoveryServerCallbacks() {
            @Override
            public void onV3StreamRequest(long streamId, DiscoveryRequest request) {
                if (request.hasErrorDetail()) {
                    nacks.add(request.getErrorDetail().getMessage());
                }
            }

            @Override
            public void onV3StreamDeltaRequest(long streamId, io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest request) {
            }
        };
        var discovery = new V3DiscoveryServer(callbacks, cache);
        ServerInterceptor record = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                String bearer = headers.get(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER));
                authentications.add(PeerIdentities.spiffeId(call.getAttributes()).map(id -> "cert " + id)
                        .orElse(bearer == null ? "none" : bearer));
                return next.startCall(call, headers);
            }
        };
        var creds = TlsServerCredentials.newBuilder()
                .keyManager(cpDir.resolve("cert.pem").toFile(), cpDir.resolve("key.pem").toFile())
                .trustManager(cpDir.resolve("ca.pem").toFile())
                .clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL).build();
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port), creds)
                .addService(ServerInterceptors.intercept(discovery.getSecretDiscoveryServiceImpl(), record))
                .build().start();
    }

    void publish(TestPki.Leaf leaf, String version) {
        publish(leaf.certPem(), leaf.keyPem(), version);
    }

    void publish(String certPem, String keyPem, String version) {
        var svid = Secret.newBuilder().setName("default").setTlsCertificate(TlsCertificate.newBuilder()
                .setCertificateChain(DataSource.newBuilder().setInlineBytes(ByteString.copyFromUtf8(certPem)))
                .setPrivateKey(DataSource.newBuilder().setInlineBytes(ByteString.copyFromUtf8(keyPem)))).build();
        var root = Secret.newBuilder().setName("ROOTCA").setValidationContext(CertificateValidationContext.newBuilder()
                .setTrustedCa(DataSource.newBuilder().setInlineBytes(ByteString.copyFromUtf8(pki.rootPem())))).build();
        cache.setSnapshot("shop/payments-1", Snapshot.create(List.of(), List.of(), List.of(), List.of(), List.of(svid, root), version));
    }

    SdsAgent agent(Optional<String> token) {
        var listener = new SdsAgent.Listener() {
            @Override public void connected(String authentication) { events.add("connected " + authentication); }
            @Override public void written(CertificateBundle bundle) { events.add("written " + bundle.notAfter()); }
            @Override public void failed(String message) { events.add("failed " + message); }
        };
        return new SdsAgent(new ProxyNode("shop", "payments-1", Map.of("app", "payments"), "payments"),
                new ControlPlaneEndpoint("127.0.0.1", port, pki.rootPem()), () -> token,
                new CertificateFileLayout(dir), listener).start();
    }

    @Test
    void writesTheSvidWithTheTokenThenRotatesAndReconnectsWithItsCertificate() throws Exception {
        startServer();
        var first = pki.issue(ID);
        publish(first, "v1");
        agent = agent(Optional.of("token-123"));
        assertThat(agent.awaitFirstWrite(Duration.ofSeconds(30))).as(events.toString()).isTrue();

        var files = new CertificateFileLayout(dir);
        assertThat(Files.readString(files.cert())).isEqualTo(first.certPem());
        assertThat(Files.readString(files.key())).isEqualTo(first.keyPem());
        assertThat(Files.readString(files.ca())).isEqualTo(pki.rootPem());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(files.key()))).isEqualTo("rw-------");
        assertThat(Files.isSymbolicLink(files.cert())).isTrue();
        assertThat(authentications).containsExactly("Bearer token-123");

        var second = pki.issue(ID);
        publish(second, "v2");
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.readString(files.cert()).equals(second.certPem()));
        assertThat(Files.readString(files.key())).isEqualTo(second.keyPem());
        try (var versions = Files.list(dir)) {
            assertThat(versions.filter(p -> p.getFileName().toString().startsWith("..v"))).hasSize(1);
        }

        // The control plane restarts: the agent comes back, now authenticated by the SVID it holds.
        server.shutdownNow().awaitTermination();
        startServer();
        var third = pki.issue(ID);
        publish(third, "v3");
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(files.cert()).equals(third.certPem()));
        assertThat(authentications.getLast()).isEqualTo("cert " + ID);
    }

    @Test
    void aKeyThatDoesNotMatchTheCertificateIsNackedAndNeverWritten() throws Exception {
        startServer();
        var good = pki.issue(ID);
        publish(good, "v1");
        agent = agent(Optional.of("t"));
        assertThat(agent.awaitFirstWrite(Duration.ofSeconds(30))).isTrue();

        var other = pki.issue(ID);
        publish(pki.issue(ID).certPem(), other.keyPem(), "v2");
        await().atMost(Duration.ofSeconds(30)).until(() -> !nacks.isEmpty());
        assertThat(nacks.getFirst()).contains("v2").contains("does not belong to the certificate");
        assertThat(Files.readString(new CertificateFileLayout(dir).cert())).isEqualTo(good.certPem());
        assertThat(events).anyMatch(e -> e.startsWith("failed rejected secrets version v2"));
        assertThat(events.toString()).doesNotContain("PRIVATE KEY");
    }

    @Test
    void withoutATokenOrCertificateItSaysWhatToDo() throws Exception {
        startServer();
        agent = agent(Optional.empty());
        await().atMost(Duration.ofSeconds(10)).until(() -> !events.isEmpty());
        assertThat(events.getFirst()).contains("no node token").contains("septa bootstrap");
    }

    @Test
    void rejectsASec1Key() {
        var leaf = pki.issue(ID);
        String sec1 = leaf.keyPem().replace("PRIVATE KEY", "EC PRIVATE KEY");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> CertificateBundle.verified(leaf.certPem(), sec1, pki.rootPem()))
                .hasMessageContaining("PKCS#8");
        assertThat(CertificateBundle.verified(leaf.certPem(), leaf.keyPem(), pki.rootPem()).toString()).doesNotContain("PRIVATE");
        assertThat(new ByteArrayInputStream(new byte[0])).isNotNull();
    }
}
