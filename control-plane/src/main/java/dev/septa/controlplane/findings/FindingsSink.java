package dev.septa.controlplane.findings;

import io.micronaut.json.JsonMapper;
import io.micronaut.serde.annotation.Serdeable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Findings as JSON lines for a SIEM: one line when a finding is raised ({@code "event":"raised"}), then at most one a
 * minute while it keeps being updated ({@code "updated"}), and one when the store evicts it ({@code "evicted"}). Each
 * line is {@code {"type":"septa.finding","event":...,"at":...,"finding":{...}}}. Written by one daemon thread from a
 * queue of at most 10,000 lines, so a slow disk or pipe never holds up the access-log receiver; lines beyond that are
 * dropped and counted ({@link #dropped()}).
 *
 * <p>Targets: standard output (Kubernetes mode: the container log is the SIEM's feed; Septa's own log goes to standard
 * error), or a file in the state directory (local mode, {@code STATE/findings.jsonl}) rotated by size: past
 * {@code maxBytes} (10 MiB) it becomes {@code findings.jsonl.1}, the older ones shift up to {@code .3}, and the
 * oldest is deleted, so the files never take more than four times {@code maxBytes}.
 */
public final class FindingsSink implements FindingsStore.Listener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FindingsSink.class);
    static final int QUEUE = 10_000;
    static final long UPDATE_EVERY_MILLIS = 60_000;
    public static final long DEFAULT_MAX_BYTES = 10L << 20;
    public static final int KEEP = 3;

    @Serdeable
    public record Line(String type, String event, String at, Finding finding) {
    }

    private interface Target extends AutoCloseable {
        void write(byte[] line) throws IOException;

        @Override
        void close() throws IOException;
    }

    private final Target target;
    private final String description;
    private final BlockingQueue<byte[]> queue = new ArrayBlockingQueue<>(QUEUE);
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong written = new AtomicLong();
    private final JsonMapper json = JsonMapper.createDefault();
    private final Map<String, Long> lastWritten = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > 10_000;
        }
    };
    private final Thread writer;
    private volatile boolean closing;

    private FindingsSink(Target target, String description) {
        this.target = target;
        this.description = description;
        this.writer = Thread.ofPlatform().daemon().name("septa-findings-sink").start(this::drain);
    }

    /** Lines to standard output (Kubernetes mode). */
    public static FindingsSink standardOutput() {
        OutputStream out = System.out;
        return new FindingsSink(new Target() {
            @Override
            public void write(byte[] line) throws IOException {
                synchronized (System.out) {
                    out.write(line);
                    out.flush();
                }
            }

            @Override
            public void close() {
                System.out.flush();
            }
        }, "standard output");
    }

    /** Lines to {@code file}, rotated past {@code maxBytes} (local mode: {@code STATE/findings.jsonl}). */
    public static FindingsSink file(Path file, long maxBytes) {
        if (maxBytes < 1024) {
            throw new IllegalArgumentException("septa.findings.sink.max-bytes must be at least 1024, got " + maxBytes);
        }
        return new FindingsSink(new RotatingFile(file, maxBytes), file.toString());
    }

    public String description() {
        return description;
    }

    @Override
    public void raised(Finding f) {
        lastWrittenAt(f, true);
        offer("raised", f);
    }

    @Override
    public void updated(Finding f) {
        if (lastWrittenAt(f, false)) {
            offer("updated", f);
        }
    }

    @Override
    public void evicted(Finding f) {
        synchronized (lastWritten) {
            lastWritten.remove(f.id());
        }
        offer("evicted", f);
    }

    /** Whether an update of {@code f} is due (a minute since its last line); records it as written if so. */
    private boolean lastWrittenAt(Finding f, boolean force) {
        long now = Instant.parse(f.lastSeen()).toEpochMilli();
        synchronized (lastWritten) {
            Long last = lastWritten.get(f.id());
            if (force || last == null || now - last >= UPDATE_EVERY_MILLIS) {
                lastWritten.put(f.id(), now);
                return true;
            }
            return false;
        }
    }

    private void offer(String event, Finding f) {
        byte[] line;
        try {
            line = (json.writeValueAsString(new Line("septa.finding", event, Instant.now().toString(), f)) + "\n")
                    .getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (closing || !queue.offer(line)) {
            dropped.incrementAndGet();
        }
    }

    private void drain() {
        boolean warned = false;
        while (!closing || !queue.isEmpty()) {
            byte[] line;
            try {
                line = queue.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (line == null) {
                continue;
            }
            try {
                target.write(line);
                written.incrementAndGet();
                warned = false;
            } catch (IOException | RuntimeException e) {
                dropped.incrementAndGet();
                if (!warned) {
                    LOG.warn("cannot write findings to {}: {}", description, e.getMessage());
                    warned = true;
                }
            }
        }
    }

    /** Lines not written: the queue was full, or the target failed. */
    public long dropped() {
        return dropped.get();
    }

    public long written() {
        return written.get();
    }

    /** Writes what is queued (up to 5 s), then closes the target. */
    @Override
    public void close() {
        closing = true;
        try {
            writer.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            target.close();
        } catch (IOException e) {
            LOG.warn("cannot close {}: {}", description, e.getMessage());
        }
    }

    /** A file rotated by size: {@code f} -> {@code f.1} -> ... -> {@code f.KEEP}, the oldest deleted. */
    private static final class RotatingFile implements Target {
        private final Path file;
        private final long maxBytes;
        private OutputStream out;
        private long size;

        RotatingFile(Path file, long maxBytes) {
            this.file = file;
            this.maxBytes = maxBytes;
        }

        @Override
        public void write(byte[] line) throws IOException {
            if (out == null) {
                Files.createDirectories(file.toAbsolutePath().getParent());
                out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                size = Files.size(file);
            }
            if (size > 0 && size + line.length > maxBytes) {
                rotate();
            }
            out.write(line);
            out.flush();
            size += line.length;
        }

        private void rotate() throws IOException {
            out.close();
            Files.deleteIfExists(sibling(KEEP));
            for (int i = KEEP - 1; i >= 1; i--) {
                if (Files.exists(sibling(i))) {
                    Files.move(sibling(i), sibling(i + 1), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Files.move(file, sibling(1), StandardCopyOption.REPLACE_EXISTING);
            out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            size = 0;
        }

        private Path sibling(int n) {
            return file.resolveSibling(file.getFileName() + "." + n);
        }

        @Override
        public void close() throws IOException {
            if (out != null) {
                out.close();
            }
        }
    }
}
