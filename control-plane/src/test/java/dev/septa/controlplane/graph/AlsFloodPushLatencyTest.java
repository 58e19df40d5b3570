package dev.septa.controlplane.graph;

import dev.septa.controlplane.support.ShopFixture;
import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.controlplane.ControlPlane;
import dev.septa.controlplane.support.AdsTestClient;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A flood of access logs on the control plane's own xDS port (4 authenticated streams, batches of 500 entries from
 * 20,000 distinct callers, as fast as flow control lets them) while an intent edit is pushed to a connected proxy:
 * the push still arrives, the graph stays within its edge cap, and every entry is recorded, shed or dropped at the cap.
 * The push latency with and without the flood is printed, not asserted (this machine's load is not the subject);
 * the timeouts are generous.
 */
class AlsFloodPushLatencyTest {

    @TempDir
    Path dir;

    @Test
    void pushesKeepFlowingWhileAccessLogsFlood() throws Exception {
        var options = ShopFixture.options(dir).build();
        try (ControlPlane cp = ControlPlane.start(options)) {
            String bundle = Files.readString(options.stateDir().resolve("ca").resolve("trust-bundle.pem"));
            try (var proxy = new AdsTestClient(cp.xdsPort(), bundle, cp.core().nodeTokens().mint("shop/checkout-1"), null);
                 var reporter = new AdsTestClient(cp.xdsPort(), bundle, cp.core().nodeTokens().mint("shop/payments-1"), null)) {
                var routes = proxy.sotw();
                DiscoveryResponse first = routes.send(request(null)).next();
                routes.send(request(first));

                long quiet = push(options.intentsDir(), "probe-a", routes, first);
                DiscoveryResponse afterQuiet = lastResponse;

                AtomicBoolean stop = new AtomicBoolean();
                AtomicLong sent = new AtomicLong();
                List<StreamAccessLogsMessage> batches = batches();
                List<CompletableFuture<Void>> flood = new ArrayList<>();
                for (int s = 0; s < 4; s++) {
                    int stream = s;
                    flood.add(CompletableFuture.runAsync(() -> flood(reporter, stream, batches, stop, sent)));
                }
                // Let the flood reach the edge cap before the edit.
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (cp.trafficGraph().counters().snapshot().recorded() + cp.trafficGraph().counters().snapshot().shed() < 20_000
                        && System.nanoTime() < until) {
                    Thread.sleep(50);
                }
                long flooded = push(options.intentsDir(), "probe-b", routes, afterQuiet);
                stop.set(true);
                CompletableFuture.allOf(flood.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);

                var c = cp.trafficGraph().counters().snapshot();
                System.out.printf("push latency: %d ms quiet, %d ms under an ALS flood of %,d entries (recorded %,d, shed %,d,"
                        + " dropped at cap %,d, edges %,d)%n", quiet, flooded, sent.get(), c.recorded(), c.shed(),
                        c.droppedEdgeCap(), cp.trafficGraph().edgeCount());
                assertThat(sent.get()).isGreaterThanOrEqualTo(20_000);
                assertThat(cp.trafficGraph().edgeCount()).isLessThanOrEqualTo(10_000);
                assertThat(c.recorded() + c.shed() + c.droppedEdgeCap() + c.malformedEntries())
                        .as("every entry the receiver got is accounted for").isLessThanOrEqualTo(sent.get()).isPositive();
            }
        }
    }

    private DiscoveryResponse lastResponse;

    /**
     * Adds an intent touching checkout's inbound and returns the milliseconds until the proxy receives its new inbound
     * route (where its policy is, decision 0009: the Listener does not change).
     */
    private long push(Path intents, String name, AdsTestClient.Stream<DiscoveryRequest, DiscoveryResponse> routes,
                      DiscoveryResponse previous) throws Exception {
        long start = System.nanoTime();
        Files.writeString(intents.resolve(name + ".yaml"), """
                apiVersion: septa.dev/v1alpha1
                kind: Intent
                metadata: {name: %s, namespace: shop}
                spec:
                  action: Allow
                  from: [{namespace: monitoring}]
                  to: {segment: checkout, ports: [{port: 8443, protocol: GRPC, http: {paths: ["/%s"]}}]}
                """.formatted(name, name));
        DiscoveryResponse next;
        do {
            next = routes.next();
            routes.send(request(next));
        } while (next.getVersionInfo().equals(previous.getVersionInfo()));
        lastResponse = next;
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    private static DiscoveryRequest request(DiscoveryResponse ack) {
        var r = DiscoveryRequest.newBuilder().setNode(AdsTestClient.node("shop/checkout-1", "envoy"))
                .setTypeUrl(Resources.V3.ROUTE_TYPE_URL).addResourceNames("inbound|8443");
        if (ack != null) {
            r.setVersionInfo(ack.getVersionInfo()).setResponseNonce(ack.getNonce());
        }
        return r.build();
    }

    /** 40 batches of 500 entries, each from its own caller address: 20,000 distinct edges, twice the cap. */
    private static List<StreamAccessLogsMessage> batches() {
        List<StreamAccessLogsMessage> out = new ArrayList<>();
        for (int b = 0; b < 40; b++) {
            List<HTTPAccessLogEntry> entries = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                int n = b * 500 + i;
                entries.add(EnvoyEntries.allowed(null, "10.9." + (n / 250) + "." + (n % 250 + 1), "shop/checkout-may-charge"));
            }
            out.add(EnvoyEntries.next(entries.toArray(HTTPAccessLogEntry[]::new)));
        }
        return out;
    }

    /** Sends as fast as the stream's flow control allows until told to stop. */
    private static void flood(AdsTestClient client, int stream, List<StreamAccessLogsMessage> batches, AtomicBoolean stop,
                              AtomicLong sent) {
        CompletableFuture<Void> ended = new CompletableFuture<>();
        var holder = new CompletableFuture<ClientCallStreamObserver<StreamAccessLogsMessage>>();
        AccessLogServiceGrpc.newStub(client.channel()).streamAccessLogs(
                new ClientResponseObserver<StreamAccessLogsMessage, StreamAccessLogsResponse>() {
                    @Override
                    public void beforeStart(ClientCallStreamObserver<StreamAccessLogsMessage> requests) {
                        holder.complete(requests);
                    }

                    @Override
                    public void onNext(StreamAccessLogsResponse value) {
                    }

                    @Override
                    public void onError(Throwable t) {
                        ended.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        ended.complete(null);
                    }
                });
        ClientCallStreamObserver<StreamAccessLogsMessage> requests = holder.join();
        requests.onNext(EnvoyEntries.first("shop/payments-1"));
        int i = stream;
        while (!stop.get() && !ended.isDone()) {
            if (!requests.isReady()) {
                Thread.onSpinWait();
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
                continue;
            }
            StreamAccessLogsMessage m = batches.get(i++ % batches.size());
            requests.onNext(m);
            sent.addAndGet(m.getHttpLogs().getLogEntryCount());
        }
        requests.onCompleted();
        ended.orTimeout(60, TimeUnit.SECONDS).exceptionally(t -> null).join();
    }
}
