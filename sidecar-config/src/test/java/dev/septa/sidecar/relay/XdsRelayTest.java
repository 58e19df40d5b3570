package dev.septa.sidecar.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.septa.sidecar.bootstrap.CertificateFileLayout;
import dev.septa.sidecar.bootstrap.ControlPlaneEndpoint;
import dev.septa.sidecar.grpc.PeerIdentities;
import dev.septa.sidecar.testing.TestPki;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The relay between a plaintext client on its Unix socket (grpc-java's own {@code unix:} resolver, as a workload's
 * bootstrap names it) and a real ADS server over TLS (java-control-plane, authenticated the way {@code septa serve}
 * sees it). Restarting that server must not end the workload's stream.
 */
class XdsRelayTest {
    static final String NODE = "shop/payments-1";
    static final String ID = "spiffe://cluster.local/ns/shop/sa/payments";
    static final String LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";
    final TestPki pki = new TestPki("relay-test-root");
    final SimpleCache<String> cache = new SimpleCache<>(Node::getId);
    final List<String> authentications = new CopyOnWriteArrayList<>();
    final List<String> events = new CopyOnWriteArrayList<>();
    /** The client address of every ADS stream the control plane saw: one address is one upstream connection. */
    final List<String> connections = new CopyOnWriteArrayList<>();
    Server server;
    XdsRelay relay;
    ManagedChannel client;
    Path cpDir;
    int port;

    @TempDir Path dir;

    @AfterEach
    void stop() {
        if (client != null) client.shutdownNow();
        if (relay != null) relay.close();
        if (server != null) server.shutdownNow();
    }

    void startServer() throws Exception {
        if (cpDir == null) {
            cpDir = pki.writeFiles(pki.issue("spiffe://cluster.local/ns/septa-system/sa/control-plane", "ip:127.0.0.1"),
                    Files.createTempDirectory("cp"));
            try (var socket = new ServerSocket(0)) {
                port = socket.getLocalPort();
            }
        }
        ServerInterceptor record = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                String bearer = headers.get(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER));
                authentications.add(PeerIdentities.spiffeId(call.getAttributes()).map(id -> "cert " + id)
                        .orElse(bearer == null ? "none" : bearer));
                connections.add(String.valueOf(call.getAttributes().get(io.grpc.Grpc.TRANSPORT_ATTR_REMOTE_ADDR)));
                return next.startCall(call, headers);
            }
        };
        var creds = TlsServerCredentials.newBuilder()
                .keyManager(cpDir.resolve("cert.pem").toFile(), cpDir.resolve("key.pem").toFile())
                .trustManager(cpDir.resolve("ca.pem").toFile())
                .clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL).build();
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port), creds)
                .addService(ServerInterceptors.intercept(new V3DiscoveryServer(cache).getAggregatedDiscoveryServiceImpl(), record))
                .build().start();
    }

    void publish(String listenerName, String version) {
        var listener = Listener.newBuilder().setName(listenerName).build();
        cache.setSnapshot(NODE, Snapshot.create(List.of(), List.of(), List.of(listener), List.of(), List.of(), version));
    }

    XdsRelay relay() throws Exception {
        var credentials = new UpstreamCredentials(new ControlPlaneEndpoint("127.0.0.1", port, pki.rootPem()),
                new CertificateFileLayout(dir), () -> Optional.of("token-123"));
        return new XdsRelay(NODE, credentials, new XdsRelay.Listener() {
            @Override public void upstreamConnected(String authentication) { events.add("connected " + authentication); }
            @Override public void upstreamLost(String reason) { events.add("lost " + reason); }
            @Override public void refused(String reason) { events.add("refused " + reason); }
        }).start(dir.resolve("xds.sock"), Optional.empty());
    }

    /** A plaintext ADS stream over the socket, recording what it receives. */
    final class Workload implements StreamObserver<DiscoveryResponse> {
        final BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
        volatile Throwable error;
        final StreamObserver<DiscoveryRequest> requests;

        Workload() {
            if (client == null) {
                client = Grpc.newChannelBuilder("unix:" + relay.socket(), InsecureChannelCredentials.create()).build();
            }
            requests = AggregatedDiscoveryServiceGrpc.newStub(client).streamAggregatedResources(this);
        }

        DiscoveryResponse next() throws InterruptedException {
            DiscoveryResponse response = responses.poll(30, TimeUnit.SECONDS);
            assertThat(response).as("a response within 30 s; error " + error + ", relay " + events).isNotNull();
            return response;
        }

        @Override public void onNext(DiscoveryResponse value) { responses.add(value); }
        @Override public void onError(Throwable t) { error = t; }
        @Override public void onCompleted() { error = new IllegalStateException("completed"); }
    }

    static DiscoveryRequest subscribe(String nodeId, String typeUrl, String name) {
        return DiscoveryRequest.newBuilder().setNode(Node.newBuilder().setId(nodeId)).setTypeUrl(typeUrl).addResourceNames(name).build();
    }

    @Test
    void relaysTheWorkloadsStreamAndCarriesItAcrossAControlPlaneRestart() throws Exception {
        startServer();
        publish("l1", "v1");
        relay = relay();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(relay.socket()))).isEqualTo("rw-------");
        Workload workload = new Workload();
        workload.requests.onNext(subscribe(NODE, LDS, "l1"));
        DiscoveryResponse first = workload.next();
        assertThat(first.getVersionInfo()).isEqualTo("v1");
        assertThat(first.getResources(0).unpack(Listener.class).getName()).isEqualTo("l1");
        workload.requests.onNext(DiscoveryRequest.newBuilder().setTypeUrl(LDS).addResourceNames("l1")
                .setVersionInfo("v1").setResponseNonce(first.getNonce()).build());
        assertThat(authentications).containsExactly("Bearer token-123");

        // The workload now holds an SVID; the control plane goes away and comes back with new configuration.
        pki.writeFiles(pki.issue(ID), dir);
        server.shutdownNow().awaitTermination();
        await().atMost(Duration.ofSeconds(10)).until(() -> events.stream().anyMatch(e -> e.startsWith("lost")));
        startServer();
        publish("l1", "v2");
        DiscoveryResponse again = workload.next();
        assertThat(again.getVersionInfo()).isEqualTo("v2");
        assertThat(workload.error).isNull();
        assertThat(authentications.getLast()).isEqualTo("cert " + ID);
    }

    @Test
    void refusesAnotherNodeAndSecrets() throws Exception {
        startServer();
        publish("l1", "v1");
        relay = relay();
        Workload other = new Workload();
        other.requests.onNext(subscribe("shop/checkout-1", LDS, "l1"));
        await().atMost(Duration.ofSeconds(10)).until(() -> other.error != null);
        assertThat(Status.fromThrowable(other.error).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(Status.fromThrowable(other.error).getDescription()).contains("serves node " + NODE + " only");

        Workload secrets = new Workload();
        secrets.requests.onNext(subscribe(NODE, "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", "default"));
        await().atMost(Duration.ofSeconds(10)).until(() -> secrets.error != null);
        assertThat(Status.fromThrowable(secrets.error).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(authentications).as("nothing refused reaches the control plane").isEmpty();
    }

    @Test
    void streamsShareOneUpstreamConnectionUntilTheCredentialsChange() throws Exception {
        startServer();
        publish("l1", "v1");
        relay = relay();
        // grpc-java opens one ADS stream per xds:/// target and one for its servers: three here.
        List<Workload> streams = List.of(new Workload(), new Workload(), new Workload());
        for (Workload stream : streams) {
            stream.requests.onNext(subscribe(NODE, LDS, "l1"));
            DiscoveryResponse first = stream.next();
            assertThat(first.getVersionInfo()).isEqualTo("v1");
            stream.requests.onNext(DiscoveryRequest.newBuilder().setTypeUrl(LDS).addResourceNames("l1")
                    .setVersionInfo("v1").setResponseNonce(first.getNonce()).build()); // ACK: the control plane may push again
        }
        assertThat(authentications).containsExactly("Bearer token-123", "Bearer token-123", "Bearer token-123");
        assertThat(connections).as("three streams, one TLS connection").hasSize(3).containsOnly(connections.getFirst());

        // Once the SVID is on disk the next stream is authenticated by it, on a new channel; the others stay up.
        pki.writeFiles(pki.issue(ID), dir);
        Workload later = new Workload();
        later.requests.onNext(subscribe(NODE, LDS, "l1"));
        assertThat(later.next().getVersionInfo()).isEqualTo("v1");
        assertThat(authentications.getLast()).isEqualTo("cert " + ID);
        assertThat(connections.getLast()).isNotEqualTo(connections.getFirst());
        publish("l1", "v2");
        for (Workload stream : streams) {
            assertThat(stream.next().getVersionInfo()).as("an older stream still relays").isEqualTo("v2");
            assertThat(stream.error).isNull();
        }
    }
}
