package dev.septa.controlplane.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * {@code DIR/audit.log}, rotated by size: when a line would take the file past {@code maxBytes} it becomes
 * {@code audit.log.1} (the older ones move up by one) and at most {@code keep} rotated files are kept, so the log
 * takes at most {@code (keep + 1) * maxBytes} (plus one line). Only ever appended to. Each line is one
 * {@code write} of the whole line and its break, unbuffered, so a crash loses at most the line being written; a
 * file left ending mid-line (by a crash or a full disk) gets a line break before the next line, so the cut line
 * stays a line of its own that readers report and skip.
 */
public final class RotatingFileSink implements AuditSink {
    public static final String FILE = "audit.log";
    /** 10 MiB per file, 10 rotated files: about 110 MiB at most (docs/audit.md). */
    public static final long DEFAULT_MAX_BYTES = 10L * 1024 * 1024;
    public static final int DEFAULT_KEEP = 10;

    private final Path dir;
    private final Path file;
    private final long maxBytes;
    private final int keep;
    private FileChannel channel;
    private long size;

    public RotatingFileSink(Path dir, long maxBytes, int keep) {
        if (maxBytes < 1 || keep < 0) {
            throw new IllegalArgumentException("maxBytes must be positive and keep zero or more");
        }
        this.dir = dir;
        this.file = dir.resolve(FILE);
        this.maxBytes = maxBytes;
        this.keep = keep;
    }

    @Override
    public void append(String line) throws IOException {
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            if (channel == null) {
                open();
            }
            if (size > 0 && size + bytes.length > maxBytes) {
                rotate();
            }
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                size += channel.write(buffer);
            }
        } catch (IOException e) {
            closeQuietly(); // reopened (and the cut line terminated) at the next append
            throw e;
        }
    }

    private void open() throws IOException {
        Files.createDirectories(dir);
        channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        size = channel.size();
        if (size > 0 && !endsWithNewline()) {
            size += channel.write(ByteBuffer.wrap(new byte[] {'\n'}));
        }
    }

    private boolean endsWithNewline() throws IOException {
        try (FileChannel read = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer last = ByteBuffer.allocate(1);
            read.read(last, read.size() - 1);
            return last.get(0) == '\n';
        }
    }

    private void rotate() throws IOException {
        channel.close();
        channel = null;
        if (keep == 0) {
            Files.delete(file);
        } else {
            Files.deleteIfExists(rotated(keep));
            for (int i = keep - 1; i >= 1; i--) {
                if (Files.exists(rotated(i))) {
                    Files.move(rotated(i), rotated(i + 1), StandardCopyOption.ATOMIC_MOVE);
                }
            }
            Files.move(file, rotated(1), StandardCopyOption.ATOMIC_MOVE);
        }
        open();
    }

    private Path rotated(int n) {
        return dir.resolve(FILE + "." + n);
    }

    private void closeQuietly() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // already failing; the next append reopens
            }
            channel = null;
        }
    }

    @Override
    public String describe() {
        return file.toString();
    }

    @Override
    public void close() {
        closeQuietly();
    }
}
