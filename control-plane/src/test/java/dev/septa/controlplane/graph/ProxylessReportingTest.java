package dev.septa.controlplane.graph;

import dev.septa.sidecar.report.AccessLogReporter;
import dev.septa.sidecar.report.ReportingServerTracerFactory;
import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import org.bouncycastle.asn1.x509.GeneralName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLSession;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The whole proxyless path on loopback: a gRPC server with mTLS and an RBAC-like interceptor reports through
 * {@link ReportingServerTracerFactory} to the real {@link AccessLogReceiver} on another port, and the callers'
 * SPIFFE IDs, read from the TLS session, become the sources of the graph's edges.
 */
class ProxylessReportingTest {
    static final String CHECKOUT_ID = "spiffe://cluster.local/ns/shop/sa/checkout";
    static final String STOREFRONT_ID = "spiffe://cluster.local/ns/shop/sa/storefront";
    static final WorkloadRef CHECKOUT = WorkloadRef.workload("shop", "checkout-1", "checkout");
    static final WorkloadRef STOREFRONT = WorkloadRef.workload("shop", "storefront-1", "storefront");
    static final WorkloadRef PAYMENTS = WorkloadRef.workload("shop", "payments-1", "payments");

    static final MethodDescriptor<String, String> CHARGE = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("shop.Payments/Charge")
            .setRequestMarshaller(new Utf8()).setResponseMarshaller(new Utf8()).build();

    final List<AutoCloseable> cleanup = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (var c : cleanup.reversed()) {
            c.close();
        }
    }

    /** Refuses storefront's calls exactly as grpc-xds's RBAC filter does: PERMISSION_DENIED, "Access Denied". */
    static final ServerInterceptor RBAC = new ServerInterceptor() {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            SSLSession s = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
            try {
                X509Certificate leaf = (X509Certificate) s.getPeerCertificates()[0];
                boolean storefront = leaf.getSubjectAlternativeNames().stream().anyMatch(san -> STOREFRONT_ID.equals(san.get(1)));
                if (storefront) {
                    call.close(Status.PERMISSION_DENIED.withDescription("Access Denied"), new Metadata());
                    return new ServerCall.Listener<>() {
                    };
                }
            } catch (Exception e) {
                call.close(Status.UNAUTHENTICATED, new Metadata());
                return new ServerCall.Listener<>() {
                };
            }
            return next.startCall(call, headers);
        }
    };

    @Test
    void proxylessCallsReachTheGraphWithTheirCallersIdentity() throws Exception {
        var counters = new GraphCounters();
        var graph = new TrafficGraph(TrafficGraph.Settings.defaults(), java.time.InstantSource.system(), counters);
        WorkloadDirectory directory = new WorkloadDirectory() {
            public Optional<WorkloadRef> byNodeId(String nodeId) {
                return nodeId.equals("shop/payments-1") ? Optional.of(PAYMENTS) : Optional.empty();
            }

            public Optional<WorkloadRef> bySource(String spiffeId, String address) {
                return Optional.ofNullable(Map.of(CHECKOUT_ID, CHECKOUT, STOREFRONT_ID, STOREFRONT).get(spiffeId));
            }
        };
        // The evaluator names the intents the proxyless log cannot carry.
        PolicyAnnotator annotator = (from, to, port, method, path) -> Optional.of(from.equals("shop/checkout-1")
                ? new PolicyAnnotator.Annotation(Verdict.ALLOW, "shop/checkout-may-charge", null)
                : new PolicyAnnotator.Annotation(Verdict.DENY, "default", null));
        Server als = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new AccessLogReceiver(graph, directory, new FloodGuard(10_000, 1_000, counters), annotator,
                        AccessLogReceiver.DEFAULT_MAX_MESSAGE_BYTES))
                .build().start();
        cleanup.add(() -> als.shutdownNow().awaitTermination(10, TimeUnit.SECONDS));
        ManagedChannel toAls = NettyChannelBuilder.forAddress("127.0.0.1", als.getPort()).usePlaintext().build();
        cleanup.add(() -> toAls.shutdownNow().awaitTermination(10, TimeUnit.SECONDS));
        var reporter = new AccessLogReporter(toAls, new AccessLogReporter.Settings("shop/payments-1", "septa.proxyless",
                1000, 100, Duration.ofMillis(100)));
        cleanup.add(reporter);

        TestCerts certs = new TestCerts();
        var serverCert = certs.leaf("payments", new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                new GeneralName(GeneralName.uniformResourceIdentifier, "spiffe://cluster.local/ns/shop/sa/payments"));
        Server app = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .sslContext(GrpcSslContexts.configure(io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder.forServer(serverCert.keys().getPrivate(), serverCert.cert()))
                        .trustManager(certs.ca.cert()).clientAuth(ClientAuth.REQUIRE).build())
                .addStreamTracerFactory(new ReportingServerTracerFactory(reporter))
                .addService(ServerInterceptors.intercept(charge(), RBAC))
                .build().start();
        cleanup.add(() -> app.shutdownNow().awaitTermination(10, TimeUnit.SECONDS));

        ManagedChannel checkout = client(certs, certs.spiffe(CHECKOUT_ID), app.getPort());
        ManagedChannel storefront = client(certs, certs.spiffe(STOREFRONT_ID), app.getPort());
        for (int i = 0; i < 5; i++) {
            assertThat(ClientCalls.blockingUnaryCall(checkout, CHARGE, CallOptions.DEFAULT, "x")).isEqualTo("ok x");
        }
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(storefront, CHARGE, CallOptions.DEFAULT, "y"))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
        }

        await().atMost(Duration.ofSeconds(30)).until(() -> graph.snapshot().edges().stream().mapToLong(TrafficGraph.Edge::requests).sum() == 8);
        var edges = graph.snapshot().edges();
        assertThat(edges).extracting(e -> e.source().id(), e -> e.destination().id(), TrafficGraph.Edge::port,
                        TrafficGraph.Edge::verdict, TrafficGraph.Edge::decidedBy, TrafficGraph.Edge::requests)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple("shop/checkout-1", "shop/payments-1", app.getPort(), Verdict.ALLOW, "shop/checkout-may-charge", 5L),
                        org.assertj.core.groups.Tuple.tuple("shop/storefront-1", "shop/payments-1", app.getPort(), Verdict.DENY, "default", 3L));
        assertThat(counters.snapshot().malformedEntries()).isZero();
        assertThat(counters.snapshot().refusedMessages()).isZero();
    }

    private ManagedChannel client(TestCerts certs, TestCerts.Issued id, int port) throws Exception {
        ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", port)
                .sslContext(GrpcSslContexts.forClient().keyManager(id.keys().getPrivate(), id.cert())
                        .trustManager(certs.ca.cert()).build())
                .build();
        cleanup.add(() -> c.shutdownNow().awaitTermination(10, TimeUnit.SECONDS));
        return c;
    }

    private static ServerServiceDefinition charge() {
        return ServerServiceDefinition.builder("shop.Payments")
                .addMethod(CHARGE, ServerCalls.asyncUnaryCall((req, out) -> {
                    out.onNext("ok " + req);
                    out.onCompleted();
                })).build();
    }

    static final class Utf8 implements MethodDescriptor.Marshaller<String> {
        public InputStream stream(String v) {
            return new ByteArrayInputStream(v.getBytes(StandardCharsets.UTF_8));
        }

        public String parse(InputStream in) {
            try {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
