package dev.septa.controlplane.graph;

import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A flood of access logs over real gRPC: several Envoy-like streams send batches of entries from far more
 * distinct callers than the edge cap as fast as they can. Every entry is accounted for (recorded, shed by the
 * flood guard, or dropped at the cap), the graph never holds more edges than its cap, and the receiver still
 * serves a well-behaved sender afterwards. (Rates are not asserted: this machine's speed is not the subject.)
 */
class AccessLogFloodTest {
    static final String TD = "spiffe://cluster.local";

    @Test
    void everyEntryIsAccountedForAndTheGraphStaysWithinItsCap() throws Exception {
        var counters = new GraphCounters();
        int maxEdges = 500;
        var graph = new TrafficGraph(new TrafficGraph.Settings(Duration.ofMinutes(15), 90, maxEdges, Duration.ofMinutes(1)),
                InstantSource.system(), counters);
        // A stopped clock makes the guard deterministic whatever this machine's speed: the burst of 5,000 gets
        // through, everything after it is shed.
        var guard = new FloodGuard(20_000, 5_000, counters, () -> 0L);
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new AccessLogReceiver(graph, new MapDirectory(Map.of(), Map.of()), guard, PolicyAnnotator.NONE,
                        AccessLogReceiver.DEFAULT_MAX_MESSAGE_BYTES))
                .build().start();
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
        try {
            int streams = 4;
            int batches = 50;
            int perBatch = 500;
            List<CompletableFuture<Void>> done = new ArrayList<>();
            for (int s = 0; s < streams; s++) {
                int stream = s;
                done.add(CompletableFuture.runAsync(() -> flood(channel, stream, batches, perBatch)));
            }
            CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(5, TimeUnit.MINUTES);

            long sent = (long) streams * batches * perBatch;
            var c = counters.snapshot();
            assertThat(c.recorded() + c.shed() + c.droppedEdgeCap()).isEqualTo(sent);
            assertThat(c.shed()).isEqualTo(sent - 5_000);
            assertThat(c.recorded() + c.droppedEdgeCap()).isEqualTo(5_000);
            assertThat(c.droppedEdgeCap()).isPositive(); // 5,000 admitted entries from thousands of callers, 500 edges
            assertThat(graph.edgeCount()).isLessThanOrEqualTo(maxEdges);
            assertThat(graph.snapshot().edges()).hasSizeLessThanOrEqualTo(maxEdges);
            assertThat(c.refusedMessages()).isZero();
        } finally {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    /** One stream: entries from 20,000 distinct callers (namespaces n0..n19, service accounts sa0..sa999). */
    private static void flood(ManagedChannel channel, int stream, int batches, int perBatch) {
        CompletableFuture<Void> closed = new CompletableFuture<>();
        StreamObserver<StreamAccessLogsMessage> out = AccessLogServiceGrpc.newStub(channel).streamAccessLogs(new StreamObserver<>() {
            public void onNext(StreamAccessLogsResponse v) {
            }

            public void onError(Throwable t) {
                closed.completeExceptionally(t);
            }

            public void onCompleted() {
                closed.complete(null);
            }
        });
        int caller = stream * 7919;
        for (int b = 0; b < batches; b++) {
            HTTPAccessLogEntry[] entries = new HTTPAccessLogEntry[perBatch];
            for (int i = 0; i < perBatch; i++) {
                caller = (caller + 1) % 20_000;
                entries[i] = EnvoyEntries.allowed(TD + "/ns/n" + (caller / 1000) + "/sa/sa" + (caller % 1000),
                        "10.0." + (caller / 250) + "." + (caller % 250), "default");
            }
            out.onNext(b == 0 ? EnvoyEntries.first("shop/payments-" + stream, entries) : EnvoyEntries.next(entries));
        }
        out.onCompleted();
        closed.join();
    }
}
