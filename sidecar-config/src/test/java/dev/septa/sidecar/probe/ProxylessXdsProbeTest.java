package dev.septa.sidecar.probe;

import dev.septa.sidecar.grpc.BytesMethods;
import static dev.septa.sidecar.probe.ProbeResources.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.sidecar.bootstrap.CertificateFileLayout;
import dev.septa.sidecar.bootstrap.ControlPlaneEndpoint;
import dev.septa.sidecar.bootstrap.GrpcBootstrapGenerator;
import dev.septa.sidecar.bootstrap.ProxyNode;
import dev.septa.sidecar.grpc.PeerIdentities;
import dev.septa.sidecar.testing.TestPki;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.Grpc;
import io.grpc.HandlerRegistry;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.grpc.stub.ClientCalls;
import io.grpc.xds.XdsChannelCredentials;
import io.grpc.xds.XdsServerBuilder;
import io.grpc.xds.XdsServerCredentials;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * De-risks the proxyless path end to end with real grpc-java xDS peers: a java-control-plane ADS server (TLS, client
 * certificate optional) serves hand-built resources of the grpc dialect to one xDS node that runs a server and a
 * client. The two sides use different certificate provider instances (one bootstrap per JVM, so one node, but two
 * SPIFFE identities), which lets the server's RBAC tell the caller apart.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProxylessXdsProbeTest {
    static final String TD = "spiffe://cluster.local";
    static final String SERVER_ID = TD + "/ns/shop/sa/catalog";
    static final String CLIENT_ID = TD + "/ns/shop/sa/checkout";
    static final String CP_ID = TD + "/ns/septa-system/sa/control-plane";
    static final String HOST = "127.0.77.1";
    static final String TARGET = "catalog.shop";

    final TestPki pki = new TestPki("septa-probe-root");
    final TestPki foreign = new TestPki("someone-else");
    final Set<String> controlPlanePeers = ConcurrentHashMap.newKeySet();
    Path dir;
    Server controlPlane;
    Server workload;
    ManagedChannel xdsChannel;
    int port;

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("septa-probe");
        Path cpDir = pki.writeFiles(pki.issue(CP_ID, "dns:localhost", "ip:127.0.0.1"), dir.resolve("cp"));
        Path clientDir = pki.writeFiles(pki.issue(CLIENT_ID), dir.resolve("client"));
        Path serverDir = pki.writeFiles(pki.issue(SERVER_ID), dir.resolve("server"));
        port = freePort(HOST);
        String target = TARGET + ":" + port;
        String cluster = "outbound|" + port + "||" + TARGET;

        var cache = new SimpleCache<String>(node -> node.getId());
        RBAC deny = rules(RBAC.Action.DENY, "shop/no-deletes",
                Policy.newBuilder().addPermissions(path(StringMatcher.newBuilder().setExact("/shop.Catalog/Delete").build()))
                        .addPrincipals(io.envoyproxy.envoy.config.rbac.v3.Principal.newBuilder().setAny(true)).build());
        RBAC allow = RBAC.newBuilder().setAction(RBAC.Action.ALLOW)
                .putPolicies("shop/checkout-may-read", Policy.newBuilder()
                        .addPermissions(and(
                                Permission.newBuilder().setOrRules(Permission.Set.newBuilder().addRules(method("POST"))).build(),
                                path(StringMatcher.newBuilder().setPrefix("/shop.Catalog/").build())))
                        .addPrincipals(principal(CLIENT_ID)).build())
                .putPolicies("shop/only-get", Policy.newBuilder()
                        .addPermissions(and(method("GET"), path(StringMatcher.newBuilder().setExact("/shop.Other/Get").build())))
                        .addPrincipals(principalPrefix(TD + "/ns/shop/sa/")).build())
                .putPolicies("shop/namespace-health", Policy.newBuilder()
                        .addPermissions(path(StringMatcher.newBuilder().setPrefix("/grpc.health.v1.Health/").build()))
                        .addPrincipals(principalPrefix(TD + "/ns/shop/sa/")).build())
                .build();
        cache.setSnapshot("shop/probe", Snapshot.create(
                List.of(cluster(cluster, "client", List.of(SERVER_ID))),
                List.of(endpoints(cluster, HOST, port)),
                List.of(serverListener(port, "server", deny, allow), clientListener(target)),
                List.of(clientRoute(target, cluster)),
                List.of(), "1"));

        var discovery = new V3DiscoveryServer(cache);
        ServerInterceptor recordPeer = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                controlPlanePeers.add(PeerIdentities.spiffeId(call.getAttributes()).orElse("anonymous"));
                return next.startCall(call, headers);
            }
        };
        var cpCreds = TlsServerCredentials.newBuilder()
                .keyManager(cpDir.resolve("cert.pem").toFile(), cpDir.resolve("key.pem").toFile())
                .trustManager(cpDir.resolve("ca.pem").toFile())
                .clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL).build();
        controlPlane = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), cpCreds)
                .addService(ServerInterceptors.intercept(discovery.getAggregatedDiscoveryServiceImpl(), recordPeer))
                .build().start();

        // The bootstrap as GrpcBootstrapGenerator writes it (tls channel_creds on the client files), plus a second
        // certificate provider instance so the server side of this one node has its own identity.
        var endpoint = new ControlPlaneEndpoint("127.0.0.1", controlPlane.getPort(), pki.rootPem());
        Map<String, Object> bootstrap = new LinkedHashMap<>(new GrpcBootstrapGenerator().generateMap(
                new ProxyNode("shop", "probe", Map.of("app", "probe"), "checkout"), endpoint, new CertificateFileLayout(clientDir)));
        var files = new CertificateFileLayout(serverDir);
        bootstrap.put("certificate_providers", Map.of(
                "client", watcher(new CertificateFileLayout(clientDir)), "server", watcher(files)));
        String json = dev.septa.sidecar.bootstrap.BootstrapJson.toJson(bootstrap);
        System.setProperty("io.grpc.xds.bootstrapConfig", json);

        workload = XdsServerBuilder.forAddress(new InetSocketAddress(HOST, port), XdsServerCredentials.create(InsecureServerCredentials.create()))
                .fallbackHandlerRegistry(new AnyMethod())
                .build().start();
        xdsChannel = Grpc.newChannelBuilder("xds:///" + target, XdsChannelCredentials.create(InsecureChannelCredentials.create())).build();
    }

    @AfterAll
    void stop() throws Exception {
        if (xdsChannel != null) xdsChannel.shutdownNow();
        if (workload != null) workload.shutdownNow();
        if (controlPlane != null) controlPlane.shutdownNow();
    }

    static Map<String, Object> watcher(CertificateFileLayout files) {
        return Map.of("plugin_name", "file_watcher", "config", Map.of(
                "certificate_file", files.cert().toString(), "private_key_file", files.key().toString(),
                "ca_certificate_file", files.ca().toString(), "refresh_interval", "1s"));
    }

    @Test
    void rbacAllowsAndDeniesAndServerSeesTheCallersSpiffeId() {
        Status allowed = call(xdsChannel, "shop.Catalog/List");
        assertThat(allowed.getCode()).as(allowed.toString()).isEqualTo(Status.Code.OK);
        assertThat(allowed.getDescription()).isEqualTo(CLIENT_ID);
        // septa.deny runs first: an ALLOW policy also covers this path, the DENY wins.
        assertThat(call(xdsChannel, "shop.Catalog/Delete").getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        // No allow policy covers the path: the allow filter denies.
        assertThat(call(xdsChannel, "shop.Payments/Charge").getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        // grpc-java evaluates a `:method` header matcher against POST (every gRPC call is a POST): GET never matches.
        assertThat(call(xdsChannel, "shop.Other/Get").getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        // Principal prefix (a `namespace:` source).
        assertThat(call(xdsChannel, "grpc.health.v1.Health/Check").getCode()).isEqualTo(Status.Code.OK);
    }

    @Test
    void theXdsStreamAuthenticatesWithTheWorkloadsSvid() {
        assertThat(call(xdsChannel, "grpc.health.v1.Health/Check").getCode()).isEqualTo(Status.Code.OK);
        assertThat(controlPlanePeers).containsExactly(CLIENT_ID);
    }

    @Test
    void plaintextCallerFails() {
        var channel = NettyChannelBuilder.forAddress(HOST, port).usePlaintext().build();
        try {
            assertThat(call(channel, "grpc.health.v1.Health/Check").getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void callerWithAForeignCaCertificateFailsTheHandshakeWhileOurOwnPasses() throws Exception {
        // Both callers trust any server, so only the server's check of the client certificate can fail the call.
        var ours = pki.issue(CLIENT_ID);
        var theirs = foreign.issue(CLIENT_ID);
        assertThat(callWith(ours, "grpc.health.v1.Health/Check").getCode()).isEqualTo(Status.Code.OK);
        Status foreignResult = callWith(theirs, "grpc.health.v1.Health/Check");
        assertThat(foreignResult.getCode()).as(foreignResult.toString()).isEqualTo(Status.Code.UNAVAILABLE);
    }

    Status callWith(TestPki.Leaf leaf, String method) throws Exception {
        var creds = TlsChannelCredentials.newBuilder()
                .keyManager(new ByteArrayInputStream(leaf.certPem().getBytes(StandardCharsets.US_ASCII)),
                        new ByteArrayInputStream(leaf.keyPem().getBytes(StandardCharsets.US_ASCII)))
                .trustManager(InsecureTrustManagerFactory.INSTANCE.getTrustManagers()).build();
        var channel = Grpc.newChannelBuilderForAddress(HOST, port, creds).build();
        try {
            return call(channel, method);
        } finally {
            channel.shutdownNow();
        }
    }

    /** Unary call with an empty body; OK carries the server's answer (the caller's SPIFFE ID) as description. */
    static Status call(Channel channel, String fullMethod) {
        var method = BytesMethods.unary(fullMethod);
        try {
            byte[] answer = ClientCalls.blockingUnaryCall(channel, method, CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), new byte[0]);
            return Status.OK.withDescription(new String(answer, StandardCharsets.UTF_8));
        } catch (StatusRuntimeException e) {
            return e.getStatus();
        }
    }

    static int freePort(String host) throws IOException {
        try (var socket = new ServerSocket(0, 1, InetAddress.getByName(host))) {
            return socket.getLocalPort();
        }
    }

    /** Answers every method with the caller's SPIFFE ID. */
    static final class AnyMethod extends HandlerRegistry {
        @Override
        public ServerMethodDefinition<?, ?> lookupMethod(String methodName, String authority) {
            var method = BytesMethods.unary(methodName);
            ServerCallHandler<byte[], byte[]> handler = (call, headers) -> {
                String peer = PeerIdentities.spiffeId(call.getAttributes()).orElse("anonymous");
                call.request(1);
                return new ServerCall.Listener<>() {
                    @Override
                    public void onHalfClose() {
                        call.sendHeaders(new Metadata());
                        call.sendMessage(peer.getBytes(StandardCharsets.UTF_8));
                        call.close(Status.OK, new Metadata());
                    }
                };
            };
            return ServerMethodDefinition.create(method, handler);
        }
    }
}
