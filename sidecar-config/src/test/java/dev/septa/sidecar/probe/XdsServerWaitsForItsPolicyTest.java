package dev.septa.sidecar.probe;

import static dev.septa.sidecar.probe.ProbeResources.path;
import static dev.septa.sidecar.probe.ProbeResources.principal;
import static dev.septa.sidecar.probe.ProbeResources.rules;
import static dev.septa.sidecar.probe.ProbeResources.serverListener;
import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.sidecar.bootstrap.BootstrapJson;
import dev.septa.sidecar.bootstrap.CertificateFileLayout;
import dev.septa.sidecar.bootstrap.GrpcBootstrapGenerator;
import dev.septa.sidecar.bootstrap.ProxyNode;
import dev.septa.sidecar.testing.TestPki;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.xds.XdsServerBuilder;
import io.grpc.xds.XdsServerCredentials;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What a newcomer to the demo asks: does a proxyless grpc-java server serve before its policy is in force? It must
 * not, and Septa relies on grpc-xds for it: {@code XdsServerWrapper} binds its port only once the server Listener (its
 * filter chains, with the RBAC filters, and every RDS they name) has arrived. Proved against a real ADS server that
 * withholds the Listener, then publishes one, while callers hammer the port: nothing is accepted before, and the first
 * call that reaches the server is already judged by the RBAC.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class XdsServerWaitsForItsPolicyTest {
    static final String TD = "spiffe://cluster.local";
    static final String SERVER_ID = TD + "/ns/shop/sa/catalog";
    static final String ALLOWED_ID = TD + "/ns/shop/sa/checkout";
    static final String STRANGER_ID = TD + "/ns/shop/sa/storefront";
    static final String HOST = "127.0.78.1";

    final TestPki pki = new TestPki("septa-waits-root");
    final SimpleCache<String> cache = new SimpleCache<>(node -> node.getId());
    final AtomicInteger handled = new AtomicInteger();
    Server controlPlane;
    Server workload;

    @AfterAll
    void stop() {
        if (workload != null) workload.shutdownNow();
        if (controlPlane != null) controlPlane.shutdownNow();
    }

    @Test
    void theServerAcceptsNothingUntilItsListenerAndRbacArriveThenJudgesTheFirstCall() throws Exception {
        Path dir = Files.createTempDirectory("septa-waits");
        Path serverDir = pki.writeFiles(pki.issue(SERVER_ID), dir.resolve("server"));
        int port = ProxylessXdsProbeTest.freePort(HOST);
        // A plaintext ADS server, as the agent's relay is to the workload; it has nothing for the node yet.
        controlPlane = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), InsecureServerCredentials.create())
                .addService(new V3DiscoveryServer(cache).getAggregatedDiscoveryServiceImpl()).build().start();
        var node = new ProxyNode("shop", "catalog-1", Map.of("app", "catalog"), "catalog");
        System.setProperty("io.grpc.xds.bootstrapConfig", BootstrapJson.toJson(new GrpcBootstrapGenerator()
                .generateRelayedMap(node, "127.0.0.1:" + controlPlane.getPort(), new CertificateFileLayout(serverDir))));

        var serving = new CountDownLatch(1);
        workload = XdsServerBuilder.forAddress(new InetSocketAddress(HOST, port), XdsServerCredentials.create(InsecureServerCredentials.create()))
                .fallbackHandlerRegistry(new CountingRegistry(new ProxylessXdsProbeTest.AnyMethod(), handled).registry())
                .xdsServingStatusListener(new XdsServerBuilder.XdsServingStatusListener() {
                    @Override public void onServing() { serving.countDown(); }
                    @Override public void onNotServing(Throwable t) { }
                })
                .build();
        var started = new CountDownLatch(1);
        Thread.ofPlatform().daemon().start(() -> {
            try {
                workload.start();
                started.countDown();
            } catch (IOException e) {
                // seen as never started
            }
        });

        // Without its Listener the server has not bound its port: there is nothing to connect to.
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        while (System.nanoTime() < until) {
            assertThat(connects(port)).as("the port accepts a connection before the policy arrived").isFalse();
            Thread.sleep(100);
        }
        assertThat(started.getCount()).as("start() is still waiting for the Listener").isEqualTo(1);
        assertThat(serving.getCount()).isEqualTo(1);

        // Publish the Listener: only checkout may call /shop.Catalog/*. A stranger calls in a tight loop from now on.
        RBAC allow = RBAC.newBuilder().setAction(RBAC.Action.ALLOW).putPolicies("shop/checkout-may-read", Policy.newBuilder()
                .addPermissions(path(StringMatcher.newBuilder().setPrefix("/shop.Catalog/").build()))
                .addPrincipals(principal(ALLOWED_ID)).build()).build();
        cache.setSnapshot(node.id(), Snapshot.create(List.of(), List.of(),
                List.of(serverListener(port, GrpcBootstrapGenerator.CERTIFICATE_PROVIDER_INSTANCE, rules(RBAC.Action.DENY, "none", null), allow)),
                List.of(), List.of(), "1"));
        var stranger = pki.issue(STRANGER_ID);
        Status first;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        do {
            first = callWith(port, stranger);
        } while (first.getCode() == Status.Code.UNAVAILABLE && System.nanoTime() < deadline);
        assertThat(first.getCode()).as("the first call that reached the server: " + first).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(handled).as("no refused call reached the service").hasValue(0);
        assertThat(serving.await(10, TimeUnit.SECONDS)).isTrue();

        Status allowed = callWith(port, pki.issue(ALLOWED_ID));
        assertThat(allowed.getCode()).as(allowed.toString()).isEqualTo(Status.Code.OK);
        assertThat(allowed.getDescription()).isEqualTo(ALLOWED_ID);
    }

    private static boolean connects(int port) {
        try (var socket = new Socket()) {
            socket.connect(new InetSocketAddress(HOST, port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** One call over TLS with the caller's certificate, trusting any server (only the server's checks are under test). */
    private static Status callWith(int port, TestPki.Leaf leaf) throws Exception {
        var creds = io.grpc.TlsChannelCredentials.newBuilder()
                .keyManager(new java.io.ByteArrayInputStream(leaf.certPem().getBytes(java.nio.charset.StandardCharsets.US_ASCII)),
                        new java.io.ByteArrayInputStream(leaf.keyPem().getBytes(java.nio.charset.StandardCharsets.US_ASCII)))
                .trustManager(io.grpc.netty.shaded.io.netty.handler.ssl.util.InsecureTrustManagerFactory.INSTANCE.getTrustManagers()).build();
        var channel = io.grpc.Grpc.newChannelBuilderForAddress(HOST, port, creds).build();
        try {
            return ProxylessXdsProbeTest.call(channel, "shop.Catalog/List");
        } finally {
            channel.shutdownNow();
        }
    }

    /** Counts the calls that reached a service handler, i.e. got past every interceptor (RBAC included). */
    private record CountingRegistry(io.grpc.HandlerRegistry delegate, AtomicInteger handled) {
        io.grpc.HandlerRegistry registry() {
            return this.asRegistry();
        }

        private io.grpc.HandlerRegistry asRegistry() {
            return new io.grpc.HandlerRegistry() {
                @Override
                public io.grpc.ServerMethodDefinition<?, ?> lookupMethod(String methodName, String authority) {
                    return counted(delegate.lookupMethod(methodName, authority));
                }
            };
        }

        private <Q, R> io.grpc.ServerMethodDefinition<Q, R> counted(io.grpc.ServerMethodDefinition<Q, R> method) {
            io.grpc.ServerCallHandler<Q, R> handler = method.getServerCallHandler();
            return method.withServerCallHandler((call, headers) -> {
                handled.incrementAndGet();
                return handler.startCall(call, headers);
            });
        }
    }
}
