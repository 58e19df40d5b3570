package dev.septa.sidecar.report;

import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A real gRPC server reporting to a real (recording) access log service, both on loopback. */
class ReportingServerTracerFactoryTest {
    final List<StreamAccessLogsMessage> received = new CopyOnWriteArrayList<>();
    final java.util.concurrent.CountDownLatch threeEntries = new java.util.concurrent.CountDownLatch(3);
    final List<Server> servers = new CopyOnWriteArrayList<>();
    final List<ManagedChannel> channels = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (var c : channels) {
            c.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
        for (var s : servers) {
            s.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    Server start(NettyServerBuilder b) throws Exception {
        Server s = b.build().start();
        servers.add(s);
        return s;
    }

    ManagedChannel channel(int port) {
        ManagedChannel c = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        channels.add(c);
        return c;
    }

    /** Denies calls carrying {@code x-deny}, the way grpc-xds's RBAC filter refuses them. */
    static final ServerInterceptor FAKE_RBAC = new ServerInterceptor() {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            if (headers.containsKey(Metadata.Key.of("x-gone", Metadata.ASCII_STRING_MARSHALLER))) {
                // What the server sees when the caller cancelled, or its deadline passed, before the call was judged.
                call.close(Status.CANCELLED.withDescription("cancelled before judged"), new Metadata());
                return new ServerCall.Listener<>() {
                };
            }
            if (headers.containsKey(Metadata.Key.of("x-deny", Metadata.ASCII_STRING_MARSHALLER))) {
                call.close(Status.PERMISSION_DENIED.withDescription("Access Denied"), new Metadata());
                return new ServerCall.Listener<>() {
                };
            }
            return next.startCall(call, headers);
        }
    };

    @Test
    void everyCallIncludingRbacRefusalsIsReportedWithItsAddresses() throws Exception {
        Server als = start(NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new AccessLogServiceGrpc.AccessLogServiceImplBase() {
                    @Override
                    public StreamObserver<StreamAccessLogsMessage> streamAccessLogs(StreamObserver<StreamAccessLogsResponse> r) {
                        return new StreamObserver<>() {
                            public void onNext(StreamAccessLogsMessage m) {
                                received.add(m);
                                for (int i = 0; i < m.getHttpLogs().getLogEntryCount(); i++) {
                                    threeEntries.countDown();
                                }
                            }

                            public void onError(Throwable t) {
                            }

                            public void onCompleted() {
                                r.onCompleted();
                            }
                        };
                    }
                }));
        var reporter = new AccessLogReporter(channel(als.getPort()),
                new AccessLogReporter.Settings("shop/payments-1", "septa.proxyless", 100, 2, Duration.ofMillis(200)));
        Server app = start(NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addStreamTracerFactory(new ReportingServerTracerFactory(reporter))
                .addService(ServerInterceptors.intercept(EchoService.definition(), FAKE_RBAC)));
        ManagedChannel client = channel(app.getPort());

        // Not reported: a call that ended before the server judged it is no policy decision (it would read as allowed).
        Metadata gone = new Metadata();
        gone.put(Metadata.Key.of("x-gone", Metadata.ASCII_STRING_MARSHALLER), "yes");
        assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(
                client.newCall(EchoService.ECHO, io.grpc.CallOptions.DEFAULT.withCallCredentials(headers(gone))), "0"))
                .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("CANCELLED");
        assertThat(ClientCalls.blockingUnaryCall(client, EchoService.ECHO, io.grpc.CallOptions.DEFAULT, "1")).isEqualTo("charged 1");
        Metadata deny = new Metadata();
        deny.put(Metadata.Key.of("x-deny", Metadata.ASCII_STRING_MARSHALLER), "yes");
        assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(
                client.newCall(EchoService.ECHO, io.grpc.CallOptions.DEFAULT.withCallCredentials(headers(deny))), "2"))
                .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("PERMISSION_DENIED");
        ClientCalls.blockingUnaryCall(client, EchoService.ECHO, io.grpc.CallOptions.DEFAULT, "3");

        assertThat(threeEntries.await(30, TimeUnit.SECONDS)).as("three entries reported").isTrue();
        reporter.close();

        assertThat(received.getFirst().getIdentifier().getNode().getId()).isEqualTo("shop/payments-1");
        assertThat(received.getFirst().getIdentifier().getLogName()).isEqualTo("septa.proxyless");
        assertThat(received.stream().skip(1)).allSatisfy(m -> assertThat(m.hasIdentifier()).isFalse());
        var entries = received.stream().flatMap(m -> m.getHttpLogs().getLogEntryList().stream()).toList();
        assertThat(entries).allSatisfy(e -> {
            assertThat(e.getRequest().getPath()).isEqualTo("/shop.Payments/Charge");
            assertThat(e.getCommonProperties().getDownstreamLocalAddress().getSocketAddress().getPortValue()).isEqualTo(app.getPort());
            assertThat(e.getCommonProperties().getDownstreamRemoteAddress().getSocketAddress().getAddress()).isEqualTo("127.0.0.1");
        });
        assertThat(entries).extracting(e -> e.getResponse().getResponseCodeDetails())
                .containsExactlyInAnyOrder("via_upstream", "rbac_access_denied", "via_upstream");
        assertThat(entries).extracting(e -> e.getResponse().getResponseTrailersOrThrow("grpc-status"))
                .containsExactlyInAnyOrder("0", "7", "0");
        assertThat(reporter.sent()).isEqualTo(3);
        assertThat(reporter.dropped()).isZero();
    }

    @Test
    void aFullQueueDropsAndCountsInsteadOfBlocking() throws Exception {
        // Nothing listens on this channel's target; a one-slot queue and a long flush interval.
        Server dead = start(NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)));
        int port = dead.getPort();
        dead.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        try (var reporter = new AccessLogReporter(channel(port),
                new AccessLogReporter.Settings("shop/payments-1", "septa.proxyless", 1, 10, Duration.ofHours(1)))) {
            var entry = io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry.getDefaultInstance();
            assertThat(reporter.offer(entry)).isTrue();
            assertThat(reporter.offer(entry)).isFalse();
            assertThat(reporter.offer(entry)).isFalse();
            assertThat(reporter.dropped()).isEqualTo(2);
        }
    }

    static io.grpc.CallCredentials headers(Metadata extra) {
        return new io.grpc.CallCredentials() {
            @Override
            public void applyRequestMetadata(RequestInfo info, java.util.concurrent.Executor ex, MetadataApplier applier) {
                applier.apply(extra);
            }
        };
    }
}
