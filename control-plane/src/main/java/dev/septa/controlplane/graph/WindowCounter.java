package dev.septa.controlplane.graph;

/**
 * Request counts of one edge over a sliding window, kept as a ring of time buckets: memory is fixed per edge
 * whatever the traffic, and a bucket is reset lazily when the ring comes round to it again.
 * Synchronized: contention is per edge, and the critical sections are a few array accesses.
 */
final class WindowCounter {
    private final long bucketMillis;
    private final long[] counts;
    private final long[] epochs;
    private long lastSeenMillis;

    WindowCounter(int buckets, long bucketMillis) {
        this.bucketMillis = bucketMillis;
        this.counts = new long[buckets];
        this.epochs = new long[buckets];
        java.util.Arrays.fill(epochs, Long.MIN_VALUE);
    }

    synchronized void add(long nowMillis, long weight) {
        long epoch = Math.floorDiv(nowMillis, bucketMillis);
        int slot = (int) Math.floorMod(epoch, (long) counts.length);
        if (epochs[slot] != epoch) {
            if (epochs[slot] > epoch) {
                return; // a late entry older than the window's ring: not worth a bucket
            }
            epochs[slot] = epoch;
            counts[slot] = 0;
        }
        counts[slot] += weight;
        lastSeenMillis = Math.max(lastSeenMillis, nowMillis);
    }

    /** Requests in the buckets that overlap the last {@code spanMillis} (the current, partial bucket included). */
    synchronized long sum(long nowMillis, long spanMillis) {
        long current = Math.floorDiv(nowMillis, bucketMillis);
        long oldest = current - bucketsIn(spanMillis) + 1;
        long total = 0;
        for (int i = 0; i < counts.length; i++) {
            if (epochs[i] >= oldest && epochs[i] <= current) {
                total += counts[i];
            }
        }
        return total;
    }

    /** Requests per second over the last {@code spanMillis}, measured from the start of the oldest bucket counted. */
    double rate(long nowMillis, long spanMillis) {
        long current = Math.floorDiv(nowMillis, bucketMillis);
        long oldestStart = (current - bucketsIn(spanMillis) + 1) * bucketMillis;
        long elapsed = Math.max(1, nowMillis - oldestStart + 1);
        return sum(nowMillis, spanMillis) * 1000.0 / elapsed;
    }

    synchronized long lastSeenMillis() {
        return lastSeenMillis;
    }

    private long bucketsIn(long spanMillis) {
        return Math.max(1, Math.min(counts.length, (spanMillis + bucketMillis - 1) / bucketMillis));
    }
}
