package dev.septa.controlplane.graph;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.TCPAccessLogEntry;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.septa.controlplane.graph.EnvoyEntries.addr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The receiver behind a real gRPC server on loopback, fed entries built the way Envoy builds them. */
class AccessLogReceiverTest {
    static final String TD = "spiffe://cluster.local";
    static final WorkloadRef PAYMENTS = WorkloadRef.workload("shop", "payments-1", "payments");
    static final WorkloadRef CHECKOUT = WorkloadRef.workload("shop", "checkout-1", "checkout");
    static final WorkloadRef STOREFRONT = WorkloadRef.workload("shop", "storefront-1", "storefront");

    final ManualClock clock = new ManualClock(Instant.parse("2026-11-25T12:00:00Z"));
    final GraphCounters counters = new GraphCounters();
    final TrafficGraph graph = new TrafficGraph(TrafficGraph.Settings.defaults(), clock, counters);
    final WorkloadDirectory directory = new MapDirectory(
            Map.of("shop/payments-1", PAYMENTS),
            Map.of(TD + "/ns/shop/sa/checkout|127.0.1.1", CHECKOUT, TD + "/ns/shop/sa/storefront|127.0.1.2", STOREFRONT));
    Server server;
    ManagedChannel channel;
    PolicyAnnotator annotator = PolicyAnnotator.NONE;

    @BeforeEach
    void start() throws Exception {
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new AccessLogReceiver(graph, directory, new FloodGuard(1e9, 1_000_000, counters),
                        (f, t, p, m, x) -> annotator.annotate(f, t, p, m, x), 64 * 1024))
                .build().start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }

    /** Sends the messages on one stream, half-closes, and returns how the server ended it. */
    Status send(StreamAccessLogsMessage... messages) throws Exception {
        CompletableFuture<Status> done = new CompletableFuture<>();
        StreamObserver<StreamAccessLogsMessage> out = AccessLogServiceGrpc.newStub(channel).streamAccessLogs(new StreamObserver<>() {
            @Override
            public void onNext(StreamAccessLogsResponse value) {
            }

            @Override
            public void onError(Throwable t) {
                done.complete(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                done.complete(Status.OK);
            }
        });
        for (var m : messages) {
            out.onNext(m);
        }
        out.onCompleted();
        return done.get(30, TimeUnit.SECONDS);
    }

    @Test
    void envoyEntriesBecomeEdgesWithVerdictAndIntents() throws Exception {
        Status s = send(
                EnvoyEntries.first("shop/payments-1",
                        EnvoyEntries.allowed(TD + "/ns/shop/sa/checkout", "127.0.1.1", "shop/checkout-may-charge"),
                        EnvoyEntries.allowed(TD + "/ns/shop/sa/checkout", "127.0.1.1", "shop/checkout-may-charge")),
                EnvoyEntries.next(EnvoyEntries.deniedByDefault(TD + "/ns/shop/sa/storefront", "127.0.1.2", "shop/storefront-never-pays")));
        assertThat(s.isOk()).isTrue();

        var edges = graph.snapshot().edges();
        assertThat(edges).hasSize(2);
        var allow = edges.stream().filter(e -> e.verdict() == Verdict.ALLOW).findFirst().orElseThrow();
        assertThat(allow.source()).isEqualTo(CHECKOUT);
        assertThat(allow.destination()).isEqualTo(PAYMENTS);
        assertThat(allow.port()).isEqualTo(8443);
        assertThat(allow.decidedBy()).isEqualTo("shop/checkout-may-charge");
        assertThat(allow.requests()).isEqualTo(2);
        var deny = edges.stream().filter(e -> e.verdict() == Verdict.DENY).findFirst().orElseThrow();
        assertThat(deny.source()).isEqualTo(STOREFRONT);
        assertThat(deny.decidedBy()).isEqualTo("default");
        assertThat(deny.wouldDenyBy()).isEqualTo("shop/storefront-never-pays");
    }

    @Test
    void anEnforcedDenyPolicyIsNamedFromItsMetadataOrItsDetails() throws Exception {
        var byMetadata = EnvoyEntries.http(TD + "/ns/shop/sa/storefront", "127.0.1.2", "127.0.1.3", 8443,
                EnvoyEntries.rbac(Map.of("septa_deny_enforced_engine_result", "denied",
                        "septa_deny_enforced_effective_policy_id", "shop/no-storefront")),
                403, "rbac_access_denied_matched_policy[shop/no-storefront]", "/x");
        // Envoy without metadata (older or a different filter layout): the details alone still name it.
        var byDetails = EnvoyEntries.http(TD + "/ns/shop/sa/storefront", "127.0.1.2", "127.0.1.3", 9090,
                io.envoyproxy.envoy.config.core.v3.Metadata.getDefaultInstance(),
                403, "rbac_access_denied_matched_policy[shop/no-storefront]", "/x");
        assertThat(send(EnvoyEntries.first("shop/payments-1", byMetadata, byDetails)).isOk()).isTrue();
        assertThat(graph.snapshot().edges()).extracting(TrafficGraph.Edge::port, TrafficGraph.Edge::verdict, TrafficGraph.Edge::decidedBy)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple(8443, Verdict.DENY, "shop/no-storefront"),
                        org.assertj.core.groups.Tuple.tuple(9090, Verdict.DENY, "shop/no-storefront"));
    }

    @Test
    void tcpEntriesUseTheNetworkRbacMetadataAndUnknownCallersStayVisible() throws Exception {
        var md = io.envoyproxy.envoy.config.core.v3.Metadata.newBuilder().putFilterMetadata(RbacDecisionReader.NETWORK_RBAC,
                com.google.protobuf.Struct.newBuilder()
                        .putFields("enforced_engine_result", com.google.protobuf.Value.newBuilder().setStringValue("denied").build())
                        .putFields("enforced_effective_policy_id", com.google.protobuf.Value.newBuilder().setStringValue("shop/no-db").build())
                        .build()).build();
        var tcp = TCPAccessLogEntry.newBuilder().setCommonProperties(AccessLogCommon.newBuilder()
                .setDownstreamRemoteAddress(addr("10.9.8.7", 5555)).setDownstreamLocalAddress(addr("127.0.1.3", 5432))
                .setMetadata(md).setConnectionTerminationDetails("rbac_access_denied_matched_policy[shop/no-db]")).build();
        var msg = StreamAccessLogsMessage.newBuilder()
                .setIdentifier(StreamAccessLogsMessage.Identifier.newBuilder().setNode(Node.newBuilder().setId("shop/payments-1")).setLogName("septa.inbound"))
                .setTcpLogs(StreamAccessLogsMessage.TCPAccessLogEntries.newBuilder().addLogEntry(tcp)).build();
        assertThat(send(msg).isOk()).isTrue();
        var e = graph.snapshot().edges().getFirst();
        assertThat(e.source().external()).isTrue();
        assertThat(e.source().id()).isEqualTo("10.9.8.7");
        assertThat(e.port()).isEqualTo(5432);
        assertThat(e.verdict()).isEqualTo(Verdict.DENY);
        assertThat(e.decidedBy()).isEqualTo("shop/no-db");
    }

    @Test
    void entriesWithoutRbacMetadataAreNamedByTheAnnotatorWhenItAgrees() throws Exception {
        annotator = (from, to, port, method, path) -> {
            assertThat(path).isEqualTo("/shop.Payments/Charge");
            return Optional.of(new PolicyAnnotator.Annotation(from.equals("shop/checkout-1") ? Verdict.ALLOW : Verdict.DENY,
                    from.equals("shop/checkout-1") ? "shop/checkout-may-charge" : "default", null));
        };
        var noMetadata = EnvoyEntries.http(TD + "/ns/shop/sa/checkout", "127.0.1.1", "127.0.1.3", 8443,
                io.envoyproxy.envoy.config.core.v3.Metadata.getDefaultInstance(), 200, "via_upstream", "/shop.Payments/Charge");
        // The evaluator says DENY, but the call went through (policy not pushed yet): keep what happened, name nothing.
        var disagree = EnvoyEntries.http(TD + "/ns/shop/sa/storefront", "127.0.1.2", "127.0.1.3", 8443,
                io.envoyproxy.envoy.config.core.v3.Metadata.getDefaultInstance(), 200, "via_upstream", "/shop.Payments/Charge");
        assertThat(send(EnvoyEntries.first("shop/payments-1", noMetadata, disagree)).isOk()).isTrue();
        var edges = graph.snapshot().edges();
        assertThat(edges).extracting(e -> e.source().name(), TrafficGraph.Edge::verdict, TrafficGraph.Edge::decidedBy)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple("checkout-1", Verdict.ALLOW, "shop/checkout-may-charge"),
                        org.assertj.core.groups.Tuple.tuple("storefront-1", Verdict.ALLOW, null));
    }

    @Test
    void withoutAnOriginalDestinationThePortComesFromTheInboundClusterName() {
        var c = AccessLogCommon.newBuilder().setDownstreamLocalAddress(addr("127.0.1.3", 15006)).setUpstreamCluster("inbound|8443||").build();
        assertThat(AccessLogEntryReader.port(c)).isEqualTo(8443);
        var direct = AccessLogCommon.newBuilder().setDownstreamLocalAddress(addr("127.0.1.3", 9090)).setUpstreamCluster("inbound|8443||").build();
        assertThat(AccessLogEntryReader.port(direct)).isEqualTo(9090);
        var neither = AccessLogCommon.newBuilder().setDownstreamLocalAddress(addr("127.0.1.3", 15006)).setUpstreamCluster("outbound|x").build();
        assertThat(AccessLogEntryReader.port(neither)).isEqualTo(15006);
    }

    @Test
    void malformedAndOversizedMessagesAreRefusedWithoutHarm() throws Exception {
        var ok = EnvoyEntries.allowed(TD + "/ns/shop/sa/checkout", "127.0.1.1", "shop/checkout-may-charge");

        // No identifier on the first message.
        Status s1 = send(EnvoyEntries.next(ok));
        assertThat(s1.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(s1.getDescription()).contains("identifier.node.id");

        // A node id that is not NS/NAME.
        Status s2 = send(EnvoyEntries.first("sidecar~10.0.0.1~payments~shop.svc", ok));
        assertThat(s2.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(s2.getDescription()).contains("expected NAMESPACE/NAME");

        // A stream that changes its node half way.
        Status s2b = send(EnvoyEntries.first("shop/payments-1", ok), EnvoyEntries.first("shop/payments-2", ok));
        assertThat(s2b.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(s2b.getDescription()).contains("began as 'shop/payments-1'");

        // Neither http_logs nor tcp_logs.
        Status s3 = send(StreamAccessLogsMessage.newBuilder().setIdentifier(StreamAccessLogsMessage.Identifier.newBuilder()
                .setNode(Node.newBuilder().setId("shop/payments-1"))).build());
        assertThat(s3.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);

        // Over the 64 KiB limit of this receiver: one entry with a 100 KB path.
        var huge = EnvoyEntries.http(TD + "/ns/shop/sa/checkout", "127.0.1.1", "127.0.1.3", 8443,
                EnvoyEntries.rbac(Map.of()), 200, "via_upstream", "/" + "a".repeat(100_000));
        Status s4 = send(EnvoyEntries.first("shop/payments-1", ok), EnvoyEntries.next(huge), EnvoyEntries.next(ok));
        assertThat(s4.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);

        // An entry without a local address: skipped and counted, the rest of the message counts.
        var noPort = HTTPAccessLogEntry.newBuilder().setCommonProperties(AccessLogCommon.newBuilder()
                .setDownstreamRemoteAddress(addr("127.0.1.1", 1))).build();
        assertThat(send(EnvoyEntries.first("shop/payments-1", noPort, ok)).isOk()).isTrue();

        var c = counters.snapshot();
        assertThat(c.refusedMessages()).isEqualTo(5);
        assertThat(c.malformedEntries()).isEqualTo(1);
        // Only the good entries landed: one before the node change, one before the oversized message, one beside
        // the portless entry.
        assertThat(graph.snapshot().edges()).singleElement().satisfies(e -> assertThat(e.requests()).isEqualTo(3));

        // The server is still fine for the next sender.
        assertThat(send(EnvoyEntries.first("shop/payments-1", ok)).isOk()).isTrue();
        await().atMost(Duration.ofSeconds(30)).until(() -> graph.snapshot().edges().getFirst().requests() == 4);
    }

    @Test
    void aCallerMayReportOnlyForTheNodesItIsAllowedToBe() throws Exception {
        var local = new GraphCounters();
        var g = new TrafficGraph(TrafficGraph.Settings.defaults(), clock, local);
        io.grpc.Context.Key<String> caller = io.grpc.Context.key("caller");
        // Stands for the control plane's authentication interceptor: it puts the authenticated node in the Context.
        io.grpc.ServerInterceptor auth = new io.grpc.ServerInterceptor() {
            @Override
            public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, R> call, io.grpc.Metadata h,
                                                                       io.grpc.ServerCallHandler<Q, R> next) {
                String who = h.get(io.grpc.Metadata.Key.of("x-node", io.grpc.Metadata.ASCII_STRING_MARSHALLER));
                return io.grpc.Contexts.interceptCall(io.grpc.Context.current().withValue(caller, who), call, h, next);
            }
        };
        var recv = new AccessLogReceiver(g, directory, new FloodGuard(1e6, 1000, local), PolicyAnnotator.NONE, 1 << 20,
                nodeId -> nodeId.equals(caller.get()));
        Server s = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(io.grpc.ServerInterceptors.intercept(recv, auth)).build().start();
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", s.getPort()).usePlaintext().build();
        try {
            io.grpc.Metadata asPayments = new io.grpc.Metadata();
            asPayments.put(io.grpc.Metadata.Key.of("x-node", io.grpc.Metadata.ASCII_STRING_MARSHALLER), "shop/checkout-1");
            var stub = AccessLogServiceGrpc.newStub(ch).withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(asPayments));
            CompletableFuture<Status> done = new CompletableFuture<>();
            var out = stub.streamAccessLogs(new StreamObserver<>() {
                public void onNext(StreamAccessLogsResponse v) {
                }

                public void onError(Throwable t) {
                    done.complete(Status.fromThrowable(t));
                }

                public void onCompleted() {
                    done.complete(Status.OK);
                }
            });
            out.onNext(EnvoyEntries.first("shop/payments-1", EnvoyEntries.allowed(TD + "/ns/shop/sa/checkout", "127.0.1.1", "x")));
            out.onCompleted();
            Status st = done.get(30, TimeUnit.SECONDS);
            assertThat(st.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(st.getDescription()).contains("shop/payments-1");
            assertThat(g.snapshot().edges()).isEmpty();

            // The same stream from the node itself is accepted: the authorizer saw the caller in the Context.
            io.grpc.Metadata asItself = new io.grpc.Metadata();
            asItself.put(io.grpc.Metadata.Key.of("x-node", io.grpc.Metadata.ASCII_STRING_MARSHALLER), "shop/payments-1");
            CompletableFuture<Status> ok = new CompletableFuture<>();
            var out2 = AccessLogServiceGrpc.newStub(ch).withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(asItself))
                    .streamAccessLogs(new StreamObserver<>() {
                        public void onNext(StreamAccessLogsResponse v) {
                        }

                        public void onError(Throwable t) {
                            ok.complete(Status.fromThrowable(t));
                        }

                        public void onCompleted() {
                            ok.complete(Status.OK);
                        }
                    });
            out2.onNext(EnvoyEntries.first("shop/payments-1", EnvoyEntries.allowed(TD + "/ns/shop/sa/checkout", "127.0.1.1", "x")));
            out2.onCompleted();
            assertThat(ok.get(30, TimeUnit.SECONDS).isOk()).isTrue();
            assertThat(g.snapshot().edges()).hasSize(1);
        } finally {
            ch.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            s.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aFloodIsShedAndCounted() throws Exception {
        // A separate receiver with a tight guard: 10 per second, burst 10, on a stopped nano clock.
        var local = new GraphCounters();
        var g = new TrafficGraph(TrafficGraph.Settings.defaults(), clock, local);
        var recv = new AccessLogReceiver(g, directory, new FloodGuard(10, 10, local, () -> 0L), PolicyAnnotator.NONE, 1 << 20);
        Server s = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(recv).build().start();
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", s.getPort()).usePlaintext().build();
        try {
            var entry = EnvoyEntries.allowed(TD + "/ns/shop/sa/checkout", "127.0.1.1", "shop/checkout-may-charge");
            HTTPAccessLogEntry[] batch = new HTTPAccessLogEntry[500];
            java.util.Arrays.fill(batch, entry);
            CompletableFuture<Void> done = new CompletableFuture<>();
            var out = AccessLogServiceGrpc.newStub(ch).streamAccessLogs(new StreamObserver<>() {
                public void onNext(StreamAccessLogsResponse v) {
                }

                public void onError(Throwable t) {
                    done.completeExceptionally(t);
                }

                public void onCompleted() {
                    done.complete(null);
                }
            });
            out.onNext(EnvoyEntries.first("shop/payments-1", batch));
            for (int i = 0; i < 19; i++) {
                out.onNext(EnvoyEntries.next(batch));
            }
            out.onCompleted();
            done.get(30, TimeUnit.SECONDS);
            assertThat(local.snapshot().recorded()).isEqualTo(10);
            assertThat(local.snapshot().shed()).isEqualTo(9_990);
        } finally {
            ch.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            s.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }
}
