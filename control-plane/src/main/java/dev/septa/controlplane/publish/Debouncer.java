package dev.septa.controlplane.publish;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * Coalesces bursts of change signals: runs the action once the signals have been quiet for {@code quiet}, but no
 * later than {@code maxDelay} after the first unserved signal, so a steady stream of edits still gets applied.
 * The action receives the {@link System#nanoTime()} of the first signal it serves (for change-to-ACK latency).
 */
final class Debouncer {
    private final ScheduledExecutorService executor;
    private final long quietNanos;
    private final long maxDelayNanos;
    private final LongConsumer action;
    private long firstSignal;
    private boolean pending;
    private long generation;
    private ScheduledFuture<?> scheduled;

    Debouncer(ScheduledExecutorService executor, Duration quiet, Duration maxDelay, LongConsumer action) {
        this.executor = executor;
        this.quietNanos = quiet.toNanos();
        this.maxDelayNanos = maxDelay.toNanos();
        this.action = action;
    }

    synchronized void signal() {
        long now = System.nanoTime();
        if (!pending) {
            pending = true;
            firstSignal = now;
        }
        if (scheduled != null) {
            scheduled.cancel(false);
        }
        long g = ++generation;
        long deadline = Math.min(now + quietNanos, firstSignal + maxDelayNanos);
        scheduled = executor.schedule(() -> fire(g), Math.max(0, deadline - now), TimeUnit.NANOSECONDS);
    }

    /**
     * Runs the action again {@code quiet} from now, whatever the maximum delay says (the action found the input
     * still changing), still reporting {@code first} as the first signal it serves. A later signal supersedes it.
     */
    synchronized void retry(long first) {
        long now = System.nanoTime();
        if (!pending) {
            pending = true;
            firstSignal = first;
        }
        if (scheduled != null) {
            scheduled.cancel(false);
        }
        long g = ++generation;
        scheduled = executor.schedule(() -> fire(g), quietNanos, TimeUnit.NANOSECONDS);
    }

    private void fire(long g) {
        long first;
        synchronized (this) {
            if (g != generation) {
                return; // superseded by a later signal
            }
            pending = false;
            scheduled = null;
            first = firstSignal;
        }
        action.accept(first);
    }
}
