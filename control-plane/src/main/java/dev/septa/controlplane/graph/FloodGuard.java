package dev.septa.controlplane.graph;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Caps how many access-log entries per second reach the graph, so that a flood costs the control plane a
 * counter increment per entry rather than map updates (and never starves xDS of CPU). A token bucket in its
 * lock-free GCRA form: one CAS on the "theoretical arrival time" per admitted entry. What is refused is
 * counted as {@code shed}; counts in the graph are then lower bounds, which the page says.
 */
public final class FloodGuard {
    private final long intervalNanos;
    private final long burstNanos;
    private final LongSupplier nanoTime;
    private final AtomicLong theoreticalArrival;
    private final GraphCounters counters;

    /**
     * @param perSecond sustained entries per second admitted
     * @param burst entries admitted at once after a quiet period
     */
    public FloodGuard(double perSecond, int burst, GraphCounters counters, LongSupplier nanoTime) {
        if (!(perSecond > 0) || burst < 1) {
            throw new IllegalArgumentException("perSecond must be > 0 and burst >= 1");
        }
        this.intervalNanos = Math.max(1, (long) (1_000_000_000L / perSecond));
        this.burstNanos = intervalNanos * (burst - 1L);
        this.nanoTime = nanoTime;
        this.counters = counters;
        this.theoreticalArrival = new AtomicLong(nanoTime.getAsLong());
    }

    public FloodGuard(double perSecond, int burst, GraphCounters counters) {
        this(perSecond, burst, counters, System::nanoTime);
    }

    /** True if this entry may be recorded; false (and counted as shed) otherwise. */
    public boolean admit() {
        long now = nanoTime.getAsLong();
        while (true) {
            long tat = theoreticalArrival.get();
            long start = Math.max(tat, now);
            if (start - now > burstNanos) {
                counters.shed.increment();
                return false;
            }
            if (theoreticalArrival.compareAndSet(tat, start + intervalNanos)) {
                return true;
            }
        }
    }
}
