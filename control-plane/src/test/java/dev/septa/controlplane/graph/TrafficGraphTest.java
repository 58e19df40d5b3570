package dev.septa.controlplane.graph;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;

class TrafficGraphTest {
    static final WorkloadRef CHECKOUT = WorkloadRef.workload("shop", "checkout-1", "checkout");
    static final WorkloadRef STOREFRONT = WorkloadRef.workload("shop", "storefront-1", "storefront");
    static final WorkloadRef PAYMENTS = WorkloadRef.workload("shop", "payments-1", "payments");

    final ManualClock clock = new ManualClock(Instant.parse("2026-11-25T12:00:00Z"));

    TrafficGraph graph(int maxEdges) {
        return new TrafficGraph(new TrafficGraph.Settings(Duration.ofMinutes(15), 90, maxEdges, Duration.ofMinutes(1)),
                clock, new GraphCounters());
    }

    static Observation allowed(WorkloadRef from, WorkloadRef to) {
        return new Observation(from, to, 8443, Verdict.ALLOW, "shop/checkout-may-charge", null, "POST", "/shop.Payments/Charge");
    }

    static Observation denied(WorkloadRef from, WorkloadRef to) {
        return new Observation(from, to, 8443, Verdict.DENY, "default", "shop/no-storefront", "POST", "/shop.Payments/Charge");
    }

    @Test
    void aggregatesCallsIntoEdgesByVerdictAndPolicy() {
        TrafficGraph g = graph(100);
        for (int i = 0; i < 30; i++) {
            g.record(allowed(CHECKOUT, PAYMENTS));
        }
        g.record(denied(STOREFRONT, PAYMENTS), 5);

        var snap = g.snapshot();
        assertThat(snap.edges()).hasSize(2);
        var allow = snap.edges().stream().filter(e -> e.verdict() == Verdict.ALLOW).findFirst().orElseThrow();
        assertThat(allow.source().id()).isEqualTo("shop/checkout-1");
        assertThat(allow.destination().id()).isEqualTo("shop/payments-1");
        assertThat(allow.requests()).isEqualTo(30);
        assertThat(allow.decidedBy()).isEqualTo("shop/checkout-may-charge");
        var deny = snap.edges().stream().filter(e -> e.verdict() == Verdict.DENY).findFirst().orElseThrow();
        assertThat(deny.requests()).isEqualTo(5);
        assertThat(deny.wouldDenyBy()).isEqualTo("shop/no-storefront");
        assertThat(snap.counters().recorded()).isEqualTo(35);
    }

    @Test
    void rateIsRequestsPerSecondOverTheLastMinute() {
        TrafficGraph g = graph(100);
        // 10 s buckets: start on a bucket boundary, 60 calls spread over the minute.
        for (int i = 0; i < 60; i++) {
            g.record(allowed(CHECKOUT, PAYMENTS));
            clock.advance(Duration.ofSeconds(1));
        }
        clock.advance(Duration.ofMillis(-1));
        var e = g.snapshot().edges().getFirst();
        assertThat(e.requests()).isEqualTo(60);
        assertThat(e.ratePerSecond()).isBetween(0.95, 1.05);
    }

    @Test
    void windowSlidesAndIdleEdgesAreEvicted() {
        TrafficGraph g = graph(100);
        g.record(allowed(CHECKOUT, PAYMENTS), 10);
        clock.advance(Duration.ofMinutes(10));
        g.record(allowed(CHECKOUT, PAYMENTS), 3);
        assertThat(g.snapshot().edges().getFirst().requests()).isEqualTo(13);

        clock.advance(Duration.ofMinutes(6)); // the first 10 left the window, the 3 are still in it
        assertThat(g.snapshot().edges().getFirst().requests()).isEqualTo(3);
        assertThat(g.snapshot().edges().getFirst().ratePerSecond()).isZero();

        clock.advance(Duration.ofMinutes(10)); // nothing left: the edge goes
        assertThat(g.snapshot().edges()).isEmpty();
        assertThat(g.edgeCount()).isZero();
        assertThat(g.counters().snapshot().evictedEdges()).isEqualTo(1);
    }

    @Test
    void distinctEdgesAreCappedAndWhatIsDroppedIsCounted() {
        TrafficGraph g = graph(50);
        for (int i = 0; i < 200; i++) {
            g.record(new Observation(WorkloadRef.workload("ns", "w" + i, null), PAYMENTS, 8443, Verdict.ALLOW,
                    "default", null, null, null), 2);
        }
        assertThat(g.edgeCount()).isEqualTo(50);
        assertThat(g.counters().snapshot().droppedEdgeCap()).isEqualTo(300);
        // Known edges still count while the cap is reached.
        g.record(new Observation(WorkloadRef.workload("ns", "w0", null), PAYMENTS, 8443, Verdict.ALLOW, "default", null, null, null));
        assertThat(g.snapshot().edges().stream().filter(e -> e.source().name().equals("w0")).findFirst().orElseThrow().requests())
                .isEqualTo(3);

        // Once old edges leave the window, new ones get room again.
        clock.advance(Duration.ofMinutes(16));
        g.record(allowed(CHECKOUT, PAYMENTS));
        assertThat(g.snapshot().edges()).extracting(e -> e.source().id()).containsExactly("shop/checkout-1");
    }

    @Test
    void concurrentRecordingLosesNothing() throws Exception {
        TrafficGraph g = graph(1000);
        int threads = 4;
        int perThread = 50_000;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            ts.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    g.record(i % 2 == 0 ? allowed(CHECKOUT, PAYMENTS) : denied(id % 2 == 0 ? STOREFRONT : CHECKOUT, PAYMENTS));
                }
            }));
        }
        start.countDown();
        for (Thread t : ts) {
            t.join();
        }
        var snap = g.snapshot();
        assertThat(snap.edges().stream().mapToLong(TrafficGraph.Edge::requests).sum()).isEqualTo((long) threads * perThread);
        assertThat(snap.edges()).hasSize(3);
    }
}
