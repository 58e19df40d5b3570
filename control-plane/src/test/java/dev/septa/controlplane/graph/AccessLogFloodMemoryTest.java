package dev.septa.controlplane.graph;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.stub.StreamObserver;
import java.lang.management.ManagementFactory;
import java.time.InstantSource;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Memory under an access-log flood far above the documented limits (docs/graph.md, "Bounds"): 10x more distinct
 * edges than the cap, every string an edge keeps at its longest accepted length and distinct per edge, and entries
 * whose strings are far longer. The graph's heap grows to a bound set by the edge cap, then not at all however much
 * more arrives. The flood guard is opened wide here: it is the graph behind it whose memory is the subject.
 */
class AccessLogFloodMemoryTest {
    static final String TD = "spiffe://cluster.local/ns/flood/sa/";
    /** Worst-case heap per edge the bound allows (strings at their longest, counters, samples, map entry). */
    static final long BOUND_PER_EDGE = 8 * 1024;

    final GraphCounters counters = new GraphCounters();
    final TrafficGraph graph = new TrafficGraph(TrafficGraph.Settings.defaults(), InstantSource.system(), counters);
    final AccessLogReceiver receiver = new AccessLogReceiver(graph, new MapDirectory(Map.of(), Map.of()),
            new FloodGuard(1e12, Integer.MAX_VALUE, counters, () -> 0L), PolicyAnnotator.NONE,
            AccessLogReceiver.DEFAULT_MAX_MESSAGE_BYTES);
    int caller;

    @Test
    void theGraphsMemoryIsBoundedByTheEdgeCapWhateverTheFloodCarries() {
        int cap = graph.settings().maxEdges();
        long base = heapUsedAfterGc();

        long started = System.nanoTime();
        flood(2 * cap);
        long atCap = heapUsedAfterGc();
        flood(8 * cap);
        long afterFlood = heapUsedAfterGc();
        double seconds = (System.nanoTime() - started) / 1e9;

        // Entries whose strings are far longer than any real one: refused (SPIFFE ID, policy name) or kept without
        // their path (a sample is a hint, not worth unbounded memory).
        long malformedBefore = counters.snapshot().malformedEntries();
        feed(entry(TD + "x".repeat(100_000), "/" + "p".repeat(10_000), "ok"), entry(TD + "a", "/ok", "i".repeat(10_000)));
        assertThat(counters.snapshot().malformedEntries() - malformedBefore).isEqualTo(1 + 1);
        feed(entry(TD + "long-path", "/" + "p".repeat(100_000), "ok"));

        var c = counters.snapshot();
        long sent = 10L * cap;
        System.out.printf("access-log flood: %,d entries (%,d distinct callers) in %.1f s, %,d recorded, %,d dropped at the"
                        + " cap of %,d edges; heap: +%,d KiB up to the cap (%,d B per edge), +%,d KiB for the %,d entries after it%n",
                sent, sent, seconds, c.recorded(), c.droppedEdgeCap(), cap, (atCap - base) / 1024, (atCap - base) / cap,
                (afterFlood - atCap) / 1024, 8L * cap);

        assertThat(graph.edgeCount()).isEqualTo(cap);
        assertThat(c.recorded() + c.droppedEdgeCap()).isEqualTo(sent + 1); // + the long-path entry, at the cap too
        assertThat(atCap - base).as("heap held by %d worst-case edges", cap).isLessThan(cap * BOUND_PER_EDGE);
        assertThat(afterFlood - atCap).as("heap growth once the cap is reached").isLessThan(8L * 1024 * 1024);
        assertThat(graph.snapshot().edges()).allSatisfy(e -> assertThat(e.samples())
                .allSatisfy(s -> assertThat(s.length()).isLessThanOrEqualTo(AccessLogEntryReader.MAX_PATH_CHARS + 8)));
    }

    /** {@code n} entries, each from a new caller, every string at its longest accepted length and distinct. */
    private void flood(int n) {
        int batch = 500;
        for (int sent = 0; sent < n; sent += batch) {
            HTTPAccessLogEntry[] entries = new HTTPAccessLogEntry[batch];
            for (int i = 0; i < batch; i++) {
                String unique = String.format("%08d", caller++);
                entries[i] = entry(pad(TD + unique, AccessLogEntryReader.MAX_NAME_CHARS),
                        pad("/flood.Service/" + unique, AccessLogEntryReader.MAX_PATH_CHARS),
                        pad("intent-" + unique, AccessLogEntryReader.MAX_NAME_CHARS));
            }
            feed(entries);
        }
    }

    private void feed(HTTPAccessLogEntry... entries) {
        StreamObserver<StreamAccessLogsMessage> stream = receiver.streamAccessLogs(new StreamObserver<StreamAccessLogsResponse>() {
            public void onNext(StreamAccessLogsResponse value) {
            }

            public void onError(Throwable t) {
                throw new AssertionError("stream refused", t);
            }

            public void onCompleted() {
            }
        });
        stream.onNext(EnvoyEntries.first("shop/payments-1", entries));
        stream.onCompleted();
    }

    private static HTTPAccessLogEntry entry(String spiffe, String path, String intent) {
        return EnvoyEntries.http(spiffe, "10.1.2.3", "127.0.1.3", 8443, EnvoyEntries.rbac(Map.of(
                        "septa_deny_enforced_engine_result", "allowed",
                        "septa_allow_enforced_engine_result", "allowed",
                        "septa_allow_enforced_effective_policy_id", intent)),
                200, "via_upstream", path);
    }

    private static String pad(String s, int length) {
        return s + "z".repeat(Math.max(0, length - s.length()));
    }

    private static long heapUsedAfterGc() {
        var memory = ManagementFactory.getMemoryMXBean();
        for (int i = 0; i < 3; i++) {
            System.gc();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return memory.getHeapMemoryUsage().getUsed();
    }
}
