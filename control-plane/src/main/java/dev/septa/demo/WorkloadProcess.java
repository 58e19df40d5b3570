package dev.septa.demo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A running {@link DemoWorkload} child process: its events arrive on a reader thread; {@link #call} asks it for one
 * call and completes with the result. Closing its stdin ends it; {@link #close()} then waits and kills what is left,
 * child processes included.
 */
public final class WorkloadProcess implements AutoCloseable {
    private final String workloadId;
    private final Process process;
    private final Writer stdin;
    private final Map<String, CompletableFuture<WorkloadEvents.CallResult>> pending = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final CompletableFuture<Void> ready = new CompletableFuture<>();

    private WorkloadProcess(String workloadId, Process process, Consumer<WorkloadEvents.Event> events) {
        this.workloadId = workloadId;
        this.process = process;
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread.ofPlatform().daemon().name("events-" + workloadId).start(() -> read(events));
    }

    /** Starts {@code java -cp <this JVM's class path> dev.septa.demo.DemoWorkload args}, stderr to {@code log}. */
    public static WorkloadProcess start(String workloadId, List<String> args, Path log, Consumer<WorkloadEvents.Event> events) throws IOException {
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        var command = new java.util.ArrayList<String>(List.of(java, "-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Xshare:auto", "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-cp", System.getProperty("java.class.path"), DemoWorkload.class.getName()));
        command.addAll(args);
        Process process = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        return new WorkloadProcess(workloadId, process, events);
    }

    /**
     * Starts any program speaking {@link WorkloadEvents}' line protocol (the Polyglot tests run a C-core workload in
     * Python this way), with extra environment, stderr to {@code log}.
     */
    public static WorkloadProcess startCommand(String workloadId, List<String> command, Map<String, String> environment,
                                               Path log, Consumer<WorkloadEvents.Event> events) throws IOException {
        var builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().putAll(environment);
        return new WorkloadProcess(workloadId, builder.start(), events);
    }

    public String workloadId() {
        return workloadId;
    }

    public boolean alive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    /** Completes when the workload reports its servers started (its certificate is on disk by then). */
    public CompletableFuture<Void> ready() {
        return ready;
    }

    public CompletableFuture<WorkloadEvents.CallResult> call(String target, String path) {
        String id = workloadId.replace('/', '.') + "-" + ids.incrementAndGet();
        var result = new CompletableFuture<WorkloadEvents.CallResult>();
        pending.put(id, result);
        try {
            synchronized (stdin) {
                stdin.write("call " + id + " " + target + " " + path + "\n");
                stdin.flush();
            }
        } catch (IOException e) {
            pending.remove(id);
            result.completeExceptionally(e);
        }
        return result;
    }

    /** Replaces the workload's periodic calls ({@code TARGET=PATH} each); empty stops them. */
    public void plan(List<String> calls) {
        try {
            synchronized (stdin) {
                stdin.write("plan" + (calls.isEmpty() ? "" : " " + String.join(" ", calls)) + "\n");
                stdin.flush();
            }
        } catch (IOException e) {
            // the process is gone; its reader reports that
        }
    }

    private void read(Consumer<WorkloadEvents.Event> events) {
        try (var reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                WorkloadEvents.parse(line).ifPresent(event -> {
                    if (event.kind().equals("ready")) {
                        ready.complete(null);
                    }
                    WorkloadEvents.CallResult.of(workloadId, event).ifPresent(result -> {
                        var waiting = pending.remove(result.id());
                        if (waiting != null) {
                            waiting.complete(result);
                        }
                    });
                    events.accept(event);
                });
            }
        } catch (IOException e) {
            // the process is gone
        }
        var gone = new IllegalStateException(workloadId + " exited");
        ready.completeExceptionally(gone);
        pending.values().forEach(f -> f.completeExceptionally(gone));
    }

    @Override
    public void close() {
        try {
            stdin.close();
        } catch (IOException e) {
            // already closed
        }
        try {
            if (!process.waitFor(3, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** Kills the process at once, as a crash would (tests of the parent's clean-up use it). */
    public void kill() {
        process.destroyForcibly();
    }

    static Duration uptime(ProcessHandle handle) {
        return handle.info().startInstant().map(start -> Duration.between(start, java.time.Instant.now())).orElse(Duration.ZERO);
    }
}
