package dev.septa.sidecar.report;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Sends access-log entries to the control plane over Envoy's access log service, the way Envoy's
 * {@code http_grpc} logger does: one long-lived {@code StreamAccessLogs} stream whose first message carries the
 * identifier (this workload's node id), then batches of entries. Reporting never slows the workload down: entries
 * go into a bounded queue ({@link #offer} never blocks; a full queue drops and counts), and one daemon thread
 * flushes it every {@code flushInterval} or as soon as a batch is full. A broken stream is reopened on the next
 * flush; the entries of a failed send are lost and counted, as Envoy's logger loses them.
 */
public final class AccessLogReporter implements AutoCloseable {

    /** @param nodeId this workload, {@code NS/NAME}; @param logName the identifier's log name */
    public record Settings(String nodeId, String logName, int queueCapacity, int maxBatch, Duration flushInterval) {
        public Settings {
            Objects.requireNonNull(nodeId, "nodeId");
            Objects.requireNonNull(logName, "logName");
            if (queueCapacity < 1 || maxBatch < 1 || flushInterval.isNegative() || flushInterval.isZero()) {
                throw new IllegalArgumentException("queueCapacity, maxBatch and flushInterval must be positive");
            }
        }

        public static Settings forWorkload(String nodeId) {
            return new Settings(nodeId, "septa.proxyless", 10_000, 500, Duration.ofSeconds(1));
        }
    }

    private final Settings settings;
    private final AccessLogServiceGrpc.AccessLogServiceStub stub;
    private final BlockingQueue<HTTPAccessLogEntry> queue;
    private final ScheduledExecutorService flusher;
    private final AtomicBoolean flushScheduled = new AtomicBoolean();
    private final LongAdder sent = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder streamFailures = new LongAdder();
    private final Object streamLock = new Object();
    private StreamObserver<StreamAccessLogsMessage> stream; // guarded by streamLock
    private volatile boolean closed;

    /** @param channel a channel to the control plane's access log service; the caller owns and closes it */
    public AccessLogReporter(Channel channel, Settings settings) {
        this.settings = settings;
        this.stub = AccessLogServiceGrpc.newStub(channel);
        this.queue = new ArrayBlockingQueue<>(settings.queueCapacity());
        this.flusher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "septa-access-log-reporter");
            t.setDaemon(true);
            return t;
        });
        long ms = settings.flushInterval().toMillis();
        flusher.scheduleWithFixedDelay(this::flushQuietly, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** Queues one entry; never blocks. False (and counted) when the queue is full or the reporter closed. */
    public boolean offer(HTTPAccessLogEntry entry) {
        if (closed || !queue.offer(entry)) {
            dropped.increment();
            return false;
        }
        if (queue.size() >= settings.maxBatch() && flushScheduled.compareAndSet(false, true)) {
            flusher.execute(() -> {
                flushScheduled.set(false);
                flushQuietly();
            });
        }
        return true;
    }

    /** Entries handed to the stream so far. */
    public long sent() {
        return sent.sum();
    }

    /** Entries lost: queue full, reporter closed, or the stream failed under them. */
    public long dropped() {
        return dropped.sum();
    }

    public long streamFailures() {
        return streamFailures.sum();
    }

    /** Sends everything queued now, on the calling thread. */
    public void flush() {
        List<HTTPAccessLogEntry> batch = new ArrayList<>(settings.maxBatch());
        while (queue.drainTo(batch, settings.maxBatch()) > 0) {
            send(batch);
            batch.clear();
        }
    }

    private void flushQuietly() {
        try {
            flush();
        } catch (RuntimeException e) {
            streamFailures.increment(); // a reporter must never take the workload down
        }
    }

    private void send(List<HTTPAccessLogEntry> batch) {
        synchronized (streamLock) {
            StreamAccessLogsMessage.Builder msg = StreamAccessLogsMessage.newBuilder()
                    .setHttpLogs(StreamAccessLogsMessage.HTTPAccessLogEntries.newBuilder().addAllLogEntry(batch));
            if (stream == null) {
                StreamEnd end = new StreamEnd();
                stream = stub.streamAccessLogs(end);
                end.owner = stream;
                msg.setIdentifier(StreamAccessLogsMessage.Identifier.newBuilder()
                        .setNode(Node.newBuilder().setId(settings.nodeId()))
                        .setLogName(settings.logName()));
            }
            try {
                stream.onNext(msg.build());
                sent.add(batch.size());
            } catch (RuntimeException e) {
                dropped.add(batch.size());
                streamFailures.increment();
                stream = null;
            }
        }
    }

    /** The server ended the stream (refusal or restart): the next flush opens a new one, identifier first. */
    private final class StreamEnd implements StreamObserver<StreamAccessLogsResponse> {
        StreamObserver<StreamAccessLogsMessage> owner; // set under streamLock right after the call starts

        @Override
        public void onNext(StreamAccessLogsResponse value) {
        }

        @Override
        public void onError(Throwable t) {
            streamFailures.increment();
            reset();
        }

        @Override
        public void onCompleted() {
            reset();
        }

        private void reset() {
            synchronized (streamLock) {
                if (stream == owner) { // a late end of an older stream must not drop the current one
                    stream = null;
                }
            }
        }
    }

    /** Flushes what is queued, ends the stream, stops the flusher. */
    @Override
    public void close() {
        closed = true;
        flusher.shutdown();
        try {
            flusher.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        flushQuietly();
        synchronized (streamLock) {
            if (stream != null) {
                stream.onCompleted();
                stream = null;
            }
        }
    }
}
