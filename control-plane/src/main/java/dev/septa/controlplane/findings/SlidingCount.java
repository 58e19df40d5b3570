package dev.septa.controlplane.findings;

import java.util.Arrays;

/**
 * Calls over a sliding window as a ring of time buckets: fixed memory whatever the traffic, exact to one bucket
 * (a twelfth of the probe window). Not thread-safe: the detector holds its lock.
 */
final class SlidingCount {
    private final long bucketMillis;
    private final long[] counts;
    private final long[] epochs;

    SlidingCount(int buckets, long bucketMillis) {
        this.bucketMillis = bucketMillis;
        this.counts = new long[buckets];
        this.epochs = new long[buckets];
        Arrays.fill(epochs, Long.MIN_VALUE);
    }

    void add(long nowMillis, long weight) {
        long epoch = Math.floorDiv(nowMillis, bucketMillis);
        int slot = (int) Math.floorMod(epoch, (long) counts.length);
        if (epochs[slot] != epoch) {
            if (epochs[slot] > epoch) {
                return;
            }
            epochs[slot] = epoch;
            counts[slot] = 0;
        }
        counts[slot] += weight;
    }

    /** Calls in the buckets that lie within the last {@code windowMillis} (the current, partial one included). */
    long sum(long nowMillis, long windowMillis) {
        long current = Math.floorDiv(nowMillis, bucketMillis);
        long oldest = oldest(current, windowMillis);
        long total = 0;
        for (int i = 0; i < counts.length; i++) {
            if (epochs[i] >= oldest && epochs[i] <= current) {
                total += counts[i];
            }
        }
        return total;
    }

    /** The start of the oldest bucket in the window that has calls. */
    long firstInWindow(long nowMillis, long windowMillis) {
        long current = Math.floorDiv(nowMillis, bucketMillis);
        long oldest = oldest(current, windowMillis);
        long first = current;
        for (int i = 0; i < counts.length; i++) {
            if (epochs[i] >= oldest && epochs[i] <= current && counts[i] > 0) {
                first = Math.min(first, epochs[i]);
            }
        }
        return first * bucketMillis;
    }

    private long oldest(long current, long windowMillis) {
        return current - Math.min(counts.length, Math.max(1, windowMillis / bucketMillis)) + 1;
    }
}
