package dev.septa.controlplane.graph;

import java.util.concurrent.atomic.LongAdder;

/**
 * What the graph and its receivers accepted and refused, so that a flood or a broken sender is visible on the
 * page and in {@code /api/graph} instead of silently skewing the numbers. LongAdders: written from every
 * receiving thread, read rarely.
 */
public final class GraphCounters {
    final LongAdder recorded = new LongAdder();
    final LongAdder shed = new LongAdder();
    final LongAdder droppedEdgeCap = new LongAdder();
    final LongAdder refusedMessages = new LongAdder();
    final LongAdder malformedEntries = new LongAdder();
    final LongAdder evictedEdges = new LongAdder();

    /** A consistent-enough copy for display. */
    public record Snapshot(long recorded, long shed, long droppedEdgeCap, long refusedMessages,
                           long malformedEntries, long evictedEdges) {
    }

    public Snapshot snapshot() {
        return new Snapshot(recorded.sum(), shed.sum(), droppedEdgeCap.sum(), refusedMessages.sum(),
                malformedEntries.sum(), evictedEdges.sum());
    }

    public void countShed(long n) {
        shed.add(n);
    }

    public void countRefusedMessage() {
        refusedMessages.increment();
    }

    public void countMalformedEntry() {
        malformedEntries.increment();
    }
}
