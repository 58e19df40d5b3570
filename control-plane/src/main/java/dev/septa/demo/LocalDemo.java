package dev.septa.demo;

import dev.septa.controlplane.ControlPlane;
import dev.septa.controlplane.ControlPlaneOptions;
import dev.septa.controlplane.status.StatusReport;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.model.Mesh;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * {@code septa demo} without its printing: the control plane in-process on the intents and inventory, plus one
 * {@link DemoWorkload} process per Workload. Follows recompiles (the workloads' call plans, the expected decisions)
 * and can restart the control plane on the same port and state (the e2e tests do). Shared by the CLI and the e2e
 * suite, which runs one fleet for many tests.
 */
public final class LocalDemo implements AutoCloseable {
    /** How to run the demo. {@code interval} zero: workloads call only on request. */
    public record Options(Path intents, Path inventory, Path stateDir, Path workDir, Duration interval,
                          BiConsumer<String, WorkloadEvents.Event> events, Consumer<String> notices) { }

    private final Options options;
    private volatile java.util.function.UnaryOperator<ControlPlaneOptions.Builder> tuning;
    private final int xdsPort;
    private final int httpPort;
    private final AtomicReference<ControlPlane> controlPlane = new AtomicReference<>();
    private final AtomicReference<ExpectedDecisions> decisions = new AtomicReference<>();
    private final Thread follower;
    private volatile DemoFleet fleet;
    private volatile boolean closed;

    private LocalDemo(Options options, java.util.function.UnaryOperator<ControlPlaneOptions.Builder> tuning) throws IOException {
        this.options = options;
        this.tuning = tuning;
        this.xdsPort = freePort();
        this.httpPort = freePort();
        this.follower = Thread.ofPlatform().daemon().name("septa-demo-follower").unstarted(this::follow);
    }

    /**
     * Starts the control plane, waits for a first good compile, then starts the workloads; their periodic calls
     * (when {@code interval} is not zero) begin once every workload serves.
     */
    public static LocalDemo start(Options options) throws Exception {
        return start(options, b -> b);
    }

    /** As {@link #start(Options)}, with control plane settings changed by {@code tuning} (e.g. certificate lifetimes). */
    public static LocalDemo start(Options options, java.util.function.UnaryOperator<ControlPlaneOptions.Builder> tuning)
            throws Exception {
        var demo = new LocalDemo(options, tuning);
        try {
            demo.startControlPlane();
            CompiledMesh first = demo.awaitCompiled(Duration.ofSeconds(60));
            demo.decisions.set(new ExpectedDecisions(first));
            demo.fleet = new DemoFleet(options.workDir(), demo.access(), options.interval(), options.events()).start(first.mesh());
            demo.follower.start();
            if (!options.interval().isZero()) {
                try {
                    demo.fleet.awaitReady(Duration.ofSeconds(180));
                } catch (java.util.concurrent.TimeoutException e) {
                    options.notices().accept("some workloads are not serving after 180 s; calling anyway");
                }
                demo.fleet.replan(demo.decisions.get().compiled().mesh());
            }
            return demo;
        } catch (Exception | Error e) {
            demo.close();
            throw e;
        }
    }

    private void startControlPlane() {
        controlPlane.set(ControlPlane.start(tuning.apply(ControlPlaneOptions.builder()
                .intentsDir(options.intents()).inventoryFile(options.inventory()).stateDir(options.stateDir())
                .xdsHost("127.0.0.1").xdsPort(xdsPort).httpHost("127.0.0.1").httpPort(httpPort)).build()));
    }

    private CompiledMesh awaitCompiled(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<Mesh> mesh = controlPlane.get().core().meshState().mesh();
            if (mesh.isPresent()) {
                return compiled(mesh.get());
            }
            Thread.sleep(50);
        }
        StatusReport.Compile compile = controlPlane.get().core().status().compile();
        throw new IllegalStateException("the intents do not compile:\n  " + String.join("\n  ", compile.errors()));
    }

    /** Notices recompiles and compile errors: replans the workloads, refreshes what {@code septa check} expects. */
    private void follow() {
        Mesh seen = decisions.get().compiled().mesh();
        List<String> seenErrors = List.of();
        while (!closed) {
            try {
                Thread.sleep(100);
                ControlPlane cp = controlPlane.get();
                if (cp == null) {
                    continue;
                }
                Optional<Mesh> mesh = cp.core().meshState().mesh();
                if (mesh.isPresent() && mesh.get() != seen) {
                    seen = mesh.get();
                    CompiledMesh compiled = compiled(seen);
                    decisions.set(new ExpectedDecisions(compiled));
                    fleet.replan(seen);
                    options.notices().accept("intents changed: recompiled, " + compiled.proxies().size() + " proxies updated live");
                }
                List<String> errors = cp.core().status().compile().errors();
                if (!errors.equals(seenErrors)) {
                    seenErrors = errors;
                    if (errors.isEmpty()) {
                        options.notices().accept("the input compiles again");
                    } else {
                        options.notices().accept("the input does not compile; the last good policy stays in force:\n  "
                                + String.join("\n  ", errors));
                    }
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                options.notices().accept("demo: " + e.getMessage());
            }
        }
    }

    /**
     * The control plane keeps only the input model in force; the compiler is a pure function, so compiling it again
     * gives exactly the resources the proxies hold, which is what {@code septa check} evaluates.
     */
    private static CompiledMesh compiled(Mesh mesh) {
        var result = PolicyCompiler.compile(mesh);
        return result.mesh().orElseThrow(() -> new IllegalStateException("the mesh in force does not compile: " + result.diagnostics()));
    }

    /** Tokens and the bundle come from the state directory, so they are refreshed while the control plane restarts. */
    private ControlPlaneAccess access() {
        return new StateDirectoryAccess("127.0.0.1", xdsPort, options.stateDir());
    }

    public ControlPlane controlPlane() {
        return controlPlane.get();
    }

    public DemoFleet fleet() {
        return fleet;
    }

    public int xdsPort() {
        return xdsPort;
    }

    public int httpPort() {
        return httpPort;
    }

    /** What {@code septa check} says on the configuration compiled last. */
    public Optional<ExpectedDecisions> decisions() {
        return Optional.ofNullable(decisions.get());
    }

    /** Stops the control plane and starts it again on the same port and state directory (same CA, same token key). */
    public void restartControlPlane() {
        ControlPlane old = controlPlane.getAndSet(null);
        if (old != null) {
            old.close();
        }
        startControlPlane();
    }

    /** As {@link #restartControlPlane()}, with new control plane settings from then on. */
    public void restartControlPlane(java.util.function.UnaryOperator<ControlPlaneOptions.Builder> newTuning) {
        this.tuning = newTuning;
        restartControlPlane();
    }

    @Override
    public void close() {
        closed = true;
        follower.interrupt();
        if (fleet != null) {
            fleet.close();
        }
        ControlPlane cp = controlPlane.getAndSet(null);
        if (cp != null) {
            cp.close();
        }
    }

    private static int freePort() throws IOException {
        try (var socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }
}
