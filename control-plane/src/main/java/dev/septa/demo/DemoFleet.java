package dev.septa.demo;

import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.Workload;
import dev.septa.policy.model.WorkloadPort;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * One {@link DemoWorkload} process per Workload of the inventory, each with its own node token, certificate
 * directory and loopback address. Shared by {@code septa demo} and the e2e tests. {@link #close()} ends every
 * child; the children also end on their own when this JVM dies (their stdin closes).
 */
public final class DemoFleet implements AutoCloseable {
    private final Path workDir;
    private final ControlPlaneAccess controlPlane;
    private final Duration interval;
    private final BiConsumer<String, WorkloadEvents.Event> events;
    private final Map<String, WorkloadProcess> processes = new LinkedHashMap<>();
    private final Map<String, Path> tokenFiles = new LinkedHashMap<>();
    /**
     * Re-mints every workload's node token at half its lifetime, as the kubelet refreshes a projected token: an agent
     * whose SVID lapsed (a control plane down longer than the SVID's life) comes back with the token, however long
     * the demo has run. The agent reads the file at each connection attempt.
     */
    private final java.util.concurrent.ScheduledExecutorService tokenRefresh = java.util.concurrent.Executors
            .newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("septa-demo-tokens").factory());
    private boolean refreshing;

    /**
     * @param interval time between a workload's rounds of periodic calls (zero: no periodic calls, only on request)
     * @param events   every event of every workload, with the workload id
     */
    public DemoFleet(Path workDir, ControlPlaneAccess controlPlane, Duration interval, BiConsumer<String, WorkloadEvents.Event> events) {
        this.workDir = workDir;
        this.controlPlane = controlPlane;
        this.interval = interval;
        this.events = events;
    }

    /**
     * Spawns every workload of {@code mesh} that has an address. They make no calls until {@link #replan} (after
     * {@link #awaitReady}: calling a server that is not up yet would only show refused connections).
     */
    public synchronized DemoFleet start(Mesh mesh) throws IOException {
        Files.createDirectories(workDir);
        Path trustBundle = workDir.resolve("control-plane-ca.pem");
        Files.writeString(trustBundle, controlPlane.trustBundlePem());
        for (Workload workload : mesh.workloads()) {
            if (workload.address() == null || processes.containsKey(workload.id())) {
                continue;
            }
            Path dir = workDir.resolve(workload.metadata().namespace() + "_" + workload.metadata().name());
            Files.createDirectories(dir);
            Path tokenFile = dir.resolve("node-token");
            writeToken(tokenFile, workload.id());
            tokenFiles.put(workload.id(), tokenFile);
            List<String> args = new ArrayList<>(List.of(
                    "--workload", workload.id(),
                    "--service-account", workload.serviceAccount() == null ? "default" : workload.serviceAccount(),
                    "--address", workload.address(),
                    "--server", controlPlane.host() + ":" + controlPlane.port(),
                    "--trust-bundle", trustBundle.toString(),
                    "--token-file", tokenFile.toString(),
                    "--dir", dir.resolve("certs").toString(),
                    "--interval", interval.isZero() ? "PT1H" : interval.toString()));
            workload.metadata().labels().forEach((k, v) -> args.addAll(List.of("--label", k + "=" + v)));
            if (!workload.ports().isEmpty()) {
                args.addAll(List.of("--port", String.join(",", workload.ports().stream().map(WorkloadPort::port).map(String::valueOf).toList())));
            }
            String id = workload.id();
            processes.put(id, WorkloadProcess.start(id, args, dir.resolve("workload.log"), event -> events.accept(id, event)));
        }
        if (!refreshing) {
            refreshing = true;
            long every = dev.septa.controlplane.auth.NodeTokens.DEFAULT_LIFETIME.dividedBy(2).toMillis();
            tokenRefresh.scheduleWithFixedDelay(this::refreshTokens, every, every, TimeUnit.MILLISECONDS);
        }
        return this;
    }

    private synchronized void refreshTokens() {
        tokenFiles.forEach((id, file) -> {
            try {
                writeToken(file, id);
            } catch (IOException | RuntimeException e) {
                System.getLogger(DemoFleet.class.getName()).log(System.Logger.Level.WARNING,
                        "cannot refresh the node token of " + id + ": " + e.getMessage());
            }
        });
    }

    /** Owner-only from creation, replaced in one rename so the agent never reads half a token. */
    private void writeToken(Path tokenFile, String nodeId) throws IOException {
        Path temporary = tokenFile.resolveSibling(tokenFile.getFileName() + ".tmp");
        Files.deleteIfExists(temporary);
        Files.createFile(temporary, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(temporary, controlPlane.mintToken(nodeId));
        Files.move(temporary, tokenFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** Sends each running workload its calls for a changed mesh (new intents may name new paths). */
    public synchronized void replan(Mesh mesh) {
        if (interval.isZero()) {
            return;
        }
        Map<String, List<CallPlanner.PlannedCall>> plan = CallPlanner.plan(mesh);
        processes.forEach((id, process) -> process.plan(plan.getOrDefault(id, List.of()).stream()
                .map(call -> call.target() + "=" + call.path()).toList()));
    }

    public synchronized Map<String, WorkloadProcess> processes() {
        return Map.copyOf(processes);
    }

    public WorkloadProcess process(String workloadId) {
        WorkloadProcess process = processes().get(workloadId);
        if (process == null) {
            throw new IllegalArgumentException("no demo workload " + workloadId);
        }
        return process;
    }

    /** Waits until every workload has its certificate and has started its servers. */
    public void awaitReady(Duration timeout) throws Exception {
        CompletableFuture.allOf(processes().values().stream().map(WorkloadProcess::ready).toArray(CompletableFuture[]::new))
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void close() {
        tokenRefresh.shutdownNow();
        // Close every stdin first so the children wind down in parallel, then wait for each.
        List<Thread> closing = new ArrayList<>();
        for (WorkloadProcess process : processes.values()) {
            closing.add(Thread.ofPlatform().start(process::close));
        }
        for (Thread thread : closing) {
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        processes.clear();
    }
}
