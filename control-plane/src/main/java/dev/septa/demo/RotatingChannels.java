package dev.septa.demo;

import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A workload's client channels, one per target, replaced by fresh ones every {@code period} so that its connections
 * handshake again with the current certificates (TLS checks a certificate only at the handshake). The client ends its
 * own connections, rather than the server ending them with max connection age, because a server's GOAWAY races with
 * grpc-java's load balancer: a call started on a connection that has just received a GOAWAY is retried
 * "transparently" on the same connection until the channel's synchronization context has noticed the GOAWAY, and after
 * 1,000 such retries it fails with INTERNAL "Too many transparent retries" (grpc-java 1.85; shown by
 * {@code GoAwayRaceTest} in e2e, docs/reliability.md). A replaced channel takes no new call; it is shut down
 * {@code drain} later (calls already started on it finish normally), so a caller that fetched it just before the swap
 * still gets its call through. The new channel is asked to connect at once, so its xDS watches exist before the old
 * channel's go away and the shared xDS client never drops the cached resources (which matters while the control
 * plane is down).
 */
public final class RotatingChannels implements AutoCloseable {
    private final Function<String, ManagedChannel> factory;
    private final Duration drain;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("septa-channel-rotation").factory());

    public RotatingChannels(Function<String, ManagedChannel> factory, Duration drain) {
        this.factory = factory;
        this.drain = drain;
    }

    /** Replaces every channel each {@code period} from now on (a positive period). */
    public RotatingChannels every(Duration period) {
        long millis = Math.max(1, period.toMillis());
        timer.scheduleWithFixedDelay(this::rotate, millis, millis, TimeUnit.MILLISECONDS);
        return this;
    }

    /** The current channel to {@code target}, made on first use. */
    public ManagedChannel get(String target) {
        return channels.computeIfAbsent(target, factory);
    }

    /** A fresh channel for every target now; each old one is shut down {@link #drain} later. */
    public void rotate() {
        for (String target : channels.keySet()) {
            ManagedChannel fresh = factory.apply(target);
            fresh.getState(true); // resolve and connect now: its xDS watches exist before the old channel's end
            ManagedChannel old = channels.put(target, fresh);
            if (old != null) {
                try {
                    timer.schedule(old::shutdown, drain.toMillis(), TimeUnit.MILLISECONDS);
                } catch (RejectedExecutionException e) {
                    old.shutdown(); // closing
                }
            }
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
