package dev.septa.controlplane.graph;

import dev.septa.controlplane.findings.Finding;
import dev.septa.controlplane.findings.FindingKind;
import dev.septa.controlplane.findings.FindingsDetector;
import dev.septa.controlplane.findings.FindingsStore;
import dev.septa.policy.model.MeshConfig;
import dev.septa.sidecar.report.AccessLogReporter;
import dev.septa.sidecar.report.ReportingServerTracerFactory;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Server;
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

import java.net.InetSocketAddress;
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
 * A probing source found from real grpc-java traffic: a gRPC server with mTLS and an RBAC interceptor that refuses
 * storefront (PERMISSION_DENIED, as grpc-xds's RBAC does) reports every call through {@link ReportingServerTracerFactory}
 * to the real {@link AccessLogReceiver}; the findings detector listens to the graph. Eight refused calls over a
 * threshold of five raise exactly one PROBING finding, counting all eight; checkout's allowed calls raise none.
 */
class ProxylessFindingsTest {
    final List<AutoCloseable> cleanup = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (var c : cleanup.reversed()) {
            c.close();
        }
    }

    @Test
    void aRefusedCallerOverTheThresholdIsOneProbingFinding() throws Exception {
        var counters = new GraphCounters();
        var graph = new TrafficGraph(TrafficGraph.Settings.defaults(), java.time.InstantSource.system(), counters);
        var findings = new FindingsStore(100);
        graph.addListener(new FindingsDetector(findings, FindingsDetector.Limits.DEFAULT,
                new MeshConfig.Detection(5, Duration.ofMinutes(1), Duration.ofHours(1))));
        WorkloadDirectory directory = new WorkloadDirectory() {
            public Optional<WorkloadRef> byNodeId(String nodeId) {
                return nodeId.equals("shop/payments-1") ? Optional.of(ProxylessReportingTest.PAYMENTS) : Optional.empty();
            }

            public Optional<WorkloadRef> bySource(String spiffeId, String address) {
                return Optional.ofNullable(Map.of(ProxylessReportingTest.CHECKOUT_ID, ProxylessReportingTest.CHECKOUT,
                        ProxylessReportingTest.STOREFRONT_ID, ProxylessReportingTest.STOREFRONT).get(spiffeId));
            }
        };
        PolicyAnnotator annotator = (from, to, port, method, path) -> Optional.of(from.equals("shop/checkout-1")
                ? new PolicyAnnotator.Annotation(Verdict.ALLOW, "shop/checkout-may-charge", null)
                : new PolicyAnnotator.Annotation(Verdict.DENY, "shop/storefront-never-pays", null));
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
                .sslContext(GrpcSslContexts.configure(io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder
                                .forServer(serverCert.keys().getPrivate(), serverCert.cert()))
                        .trustManager(certs.ca.cert()).clientAuth(ClientAuth.REQUIRE).build())
                .addStreamTracerFactory(new ReportingServerTracerFactory(reporter))
                .addService(ServerInterceptors.intercept(charge(), ProxylessReportingTest.RBAC))
                .build().start();
        cleanup.add(() -> app.shutdownNow().awaitTermination(10, TimeUnit.SECONDS));

        ManagedChannel checkout = client(certs, certs.spiffe(ProxylessReportingTest.CHECKOUT_ID), app.getPort());
        ManagedChannel storefront = client(certs, certs.spiffe(ProxylessReportingTest.STOREFRONT_ID), app.getPort());
        for (int i = 0; i < 5; i++) {
            assertThat(ClientCalls.blockingUnaryCall(checkout, ProxylessReportingTest.CHARGE, CallOptions.DEFAULT, "x")).isEqualTo("ok x");
        }
        for (int i = 0; i < 8; i++) {
            assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(storefront, ProxylessReportingTest.CHARGE, CallOptions.DEFAULT, "y"))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
        }

        await().atMost(Duration.ofSeconds(30)).until(() -> graph.snapshot().edges().stream().mapToLong(TrafficGraph.Edge::requests).sum() == 13);
        assertThat(findings.list()).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo(FindingKind.PROBING);
            assertThat(f.source()).isEqualTo("shop/storefront-1");
            assertThat(f.destination()).isEqualTo("shop/payments-1");
            assertThat(f.port()).isEqualTo(app.getPort());
            assertThat(f.intent()).isEqualTo("shop/storefront-never-pays");
            assertThat(f.count()).isEqualTo(8);
            assertThat(f.samples()).containsExactly("POST /shop.Payments/Charge");
        });
        assertThat(findings.raisedByKind()).containsEntry("PROBING", 1L).containsEntry("NEW_EDGE", 0L);
        Finding only = findings.list().getFirst();
        assertThat(Duration.between(java.time.Instant.parse(only.firstSeen()), java.time.Instant.parse(only.lastSeen())))
                .isLessThanOrEqualTo(Duration.ofMinutes(1));
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
                .addMethod(ProxylessReportingTest.CHARGE, ServerCalls.asyncUnaryCall((req, out) -> {
                    out.onNext("ok " + req);
                    out.onCompleted();
                })).build();
    }
}
