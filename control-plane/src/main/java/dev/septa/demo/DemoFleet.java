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
            Files.deleteIfExists(tokenFile);
            Files.createFile(tokenFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tokenFile, controlPlane.mintToken(workload.id()));
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
        return this;
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
