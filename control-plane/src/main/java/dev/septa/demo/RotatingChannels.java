package dev.septa.demo;

import io.grpc.ConnectivityState;
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
 * "transparently" on the same transport until the channel's synchronization context has noticed the GOAWAY, and after
 * 1,000 such retries it fails with INTERNAL "Too many transparent retries" (grpc-java 1.85; shown by
 * {@code GoAwayRaceTest} in e2e, docs/reliability.md).
 *
 * <p>A fresh channel takes calls only once it is READY (resolved through xDS and connected), so calls never wait for
 * it; until then the current one serves, and a fresh channel still not READY at the next rotation is dropped for a new
 * one. The replaced channel is shut down {@code drain} later: calls already started on it finish normally, and a
 * caller that fetched it just before the swap still gets its call through. While the fresh channel resolves, the old
 * one's xDS watches keep the shared xDS client's cached resources alive (which matters while the control plane is
 * down).
 */
public final class RotatingChannels implements AutoCloseable {
    private final Function<String, ManagedChannel> factory;
    private final Duration drain;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    /** Per target, the fresh channel not yet READY. */
    private final Map<String, ManagedChannel> pending = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("septa-channel-rotation").factory());
    private volatile boolean closed;

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

    /** Starts a fresh channel for every target; each takes over once READY. */
    public void rotate() {
        for (String target : channels.keySet()) {
            ManagedChannel fresh = factory.apply(target);
            ManagedChannel stale = pending.put(target, fresh);
            if (stale != null) {
                stale.shutdown(); // never got READY: give way to the new attempt
            }
            promoteWhenReady(target, fresh);
        }
    }

    private void promoteWhenReady(String target, ManagedChannel fresh) {
        ConnectivityState state = fresh.getState(true); // resolve and connect now
        if (closed || state == ConnectivityState.SHUTDOWN) {
            return;
        }
        if (state != ConnectivityState.READY) {
            fresh.notifyWhenStateChanged(state, () -> promoteWhenReady(target, fresh));
            return;
        }
        if (!pending.remove(target, fresh)) {
            return; // superseded meanwhile
        }
        ManagedChannel old = channels.put(target, fresh);
        if (old != null) {
            try {
                timer.schedule(old::shutdown, drain.toMillis(), TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                old.shutdown(); // closing
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        timer.shutdownNow();
        pending.values().forEach(ManagedChannel::shutdownNow);
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
