package dev.septa.e2e.support;

import dev.septa.controlplane.status.StatusReport;
import io.micronaut.serde.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code septa serve} in its own JVM (this JVM's class path), as an operator runs it, on fixed ports so that a
 * restart comes back where the workloads look for it. {@link #kill()} is SIGKILL ({@link Process#destroyForcibly()}
 * on Linux): no shutdown hook, no flush.
 */
public final class ControlPlaneProcess implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<String> args;
    private final List<String> jvmOptions;
    private final Path log;
    private final int httpPort;
    private Process process;

    public ControlPlaneProcess(List<String> serveArgs, int httpPort, Path log) {
        this(List.of(), serveArgs, httpPort, log);
    }

    /** {@code jvmOptions} go before the class path (e.g. a {@code -Dsepta.failpoint...} property). */
    public ControlPlaneProcess(List<String> jvmOptions, List<String> serveArgs, int httpPort, Path log) {
        this.jvmOptions = List.copyOf(jvmOptions);
        this.args = List.copyOf(serveArgs);
        this.httpPort = httpPort;
        this.log = log;
    }

    public ControlPlaneProcess start() throws IOException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.septa.cli.SeptaCli", "serve"));
        command.addAll(args);
        process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        return this;
    }

    /** Waits until {@code /health} answers 200; fails if the process died. */
    public void awaitHealthy(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("septa serve exited with " + process.exitValue() + "; see " + log);
            }
            try {
                if (get("/health").statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        threadDump();
        throw new IllegalStateException("septa serve not healthy after " + timeout + "; see " + log + " (its threads at the end)");
    }

    /** Appends the process's threads to its log (jcmd Thread.print), to see where a start-up is stuck. */
    private void threadDump() {
        Path jcmd = Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("jcmd");
        try {
            new ProcessBuilder(jcmd.toString(), String.valueOf(process.pid()), "Thread.print").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start().waitFor(30, TimeUnit.SECONDS);
        } catch (IOException e) {
            // no jcmd: the log alone must do
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public StatusReport status() throws Exception {
        return ObjectMapper.getDefault().readValue(get("/api/status").body(), StatusReport.class);
    }

    /** {@code septa ca rotate} with the bearer token from {@code tokenFile} (STATE/http-token): the HTTP status code. */
    public int requestRotation(Path tokenFile) throws Exception {
        String token = java.nio.file.Files.readString(tokenFile).strip();
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/api/ca/rotate"))
                .header("Authorization", "Bearer " + token)
                .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** SIGKILL, then waits for the process to be gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    public long pid() {
        return process.pid();
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            kill();
        }
    }
}
