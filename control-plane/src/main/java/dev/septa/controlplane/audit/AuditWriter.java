package dev.septa.controlplane.audit;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes audit work on its own thread, so that a slow or failing disk never holds up the publisher, an xDS stream
 * or the CA. Callers only {@code offer} to a bounded queue: when it is full the record is counted as lost, never
 * waited for. A failing write (disk full, read-only) is logged once per distinct error and shown in the status
 * ({@link #problem()}); every later record tries again, and the first that succeeds is preceded by an
 * {@code audit.lost} record saying how many were lost and why, so the gap is in the log itself.
 */
final class AuditWriter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AuditWriter.class);
    /** Room for a push to every proxy of a large fleet (4 types sent and ACKed each): ~8,000 proxies at once. */
    static final int QUEUE = 65_536;

    /** Work for the writer thread: a line, or a write to the policy version store. */
    interface Task {
        void run(AuditSink sink) throws IOException;
    }

    private final AuditSink sink;
    private final BlockingQueue<Task> queue = new ArrayBlockingQueue<>(QUEUE);
    private final Thread thread;
    private final AtomicLong submitted = new AtomicLong();
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private long lost;
    private Instant lostSince;
    private String lastError;
    private volatile String problem;
    private volatile boolean closing;

    AuditWriter(AuditSink sink) {
        this.sink = sink;
        this.thread = Thread.ofPlatform().daemon().name("septa-audit").start(this::loop);
    }

    /** The record is turned into its line on the writer thread: callers (xDS sends, the CA) only queue it. */
    void record(AuditRecord record) {
        submit(s -> s.append(record.line()));
    }

    void submit(Task task) {
        if (closing || !queue.offer(task)) {
            dropped.incrementAndGet();
            return;
        }
        submitted.incrementAndGet();
    }

    private void loop() {
        while (true) {
            Task task;
            try {
                task = queue.poll(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (task == null) {
                if (closing) {
                    return;
                }
                continue;
            }
            try {
                long full = dropped.getAndSet(0);
                if (full > 0) {
                    failed(full, "the audit queue was full (" + QUEUE + " records)");
                }
                task.run(guarded);
            } catch (IOException | RuntimeException e) {
                failed(1, "cannot write " + sink.describe() + ": " + describe(e));
            } finally {
                done.incrementAndGet();
            }
        }
    }

    /** The sink as tasks see it: a line after lost ones is preceded by the record of the loss. */
    private final AuditSink guarded = new AuditSink() {
        @Override
        public void append(String line) throws IOException {
            if (lost > 0) {
                sink.append(AuditRecord.of(AuditLog.LOST).put("records", lost).put("since", lostSince)
                        .put("error", lastError).line());
                LOG.info("audit log writable again ({}): {} records were lost since {}", sink.describe(), lost, lostSince);
                lost = 0;
                lostSince = null;
                lastError = null;
                problem = null;
            }
            sink.append(line);
        }

        @Override
        public String describe() {
            return sink.describe();
        }
    };

    private void failed(long records, String error) {
        if (lost == 0) {
            lostSince = Instant.now();
        }
        lost += records;
        if (!error.equals(lastError)) {
            LOG.error("audit log: {}; records are lost until it can be written again (retried with every record)", error);
        }
        lastError = error;
        problem = "audit log: " + error + "; " + lost + " records lost since " + lostSince;
    }

    static String describe(Exception e) {
        if (e instanceof java.nio.file.FileSystemException f) {
            // "No space left on device" rather than the path again; else what happened to which file.
            return f.getReason() != null ? f.getReason() : e.getClass().getSimpleName() + " " + f.getFile()
                    + (e instanceof java.nio.file.FileAlreadyExistsException ? " (a file where a directory must be)" : "");
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /** Why records are being lost now, for {@code septa status}; empty while the log is written. */
    Optional<String> problem() {
        return Optional.ofNullable(problem);
    }

    /** Waits until everything submitted so far was written (or failed): for tests and an orderly close. */
    boolean awaitIdle(Duration timeout) {
        long target = submitted.get();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (done.get() < target) {
            if (System.nanoTime() > deadline || !thread.isAlive()) {
                return false;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        awaitIdle(Duration.ofSeconds(2));
        closing = true;
        try {
            thread.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            sink.close();
        } catch (Exception ignored) {
            // nothing left to report to
        }
    }
}
