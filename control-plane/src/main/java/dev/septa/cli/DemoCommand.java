package dev.septa.cli;

import dev.septa.demo.CallReporter;
import dev.septa.demo.LocalDemo;
import dev.septa.demo.WorkloadEvents;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code septa demo}: the control plane plus one real proxyless gRPC workload process per Workload of the inventory,
 * calling each other; prints which calls are allowed or denied and by which intent. Edit the intents while it runs.
 * Ctrl-C stops everything; the workload processes also end by themselves if this process dies.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run the control plane and one real proxyless gRPC workload per inventory Workload (each its own process,",
                "node identity, certificate and 127.0.x.y address), calling each other over mTLS; print which calls are",
                "allowed or denied and by which intent. Edit the intents while it runs; Ctrl-C stops everything."})
public final class DemoCommand implements Callable<Integer> {
    @Option(names = "--intents", defaultValue = "examples/shop/intents", paramLabel = "DIR", description = "default ${DEFAULT-VALUE}") Path intents;
    @Option(names = "--inventory", defaultValue = "examples/shop/inventory.yaml", paramLabel = "FILE", description = "default ${DEFAULT-VALUE}") Path inventory;
    @Option(names = "--state-dir", defaultValue = ".septa/demo", paramLabel = "DIR", description = "CA and token key (default ${DEFAULT-VALUE})") Path stateDir;
    @Option(names = "--interval", defaultValue = "PT2S", paramLabel = "DURATION", description = "time between a workload's rounds of calls (default ${DEFAULT-VALUE})") Duration interval;
    @Option(names = {"-v", "--verbose"}, description = "print every call, not only changes") boolean verbose;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        if (!Files.isDirectory(intents)) {
            System.err.println("septa demo: --intents " + intents + ": not a directory (run from the repository root, or pass --intents)");
            return 2;
        }
        if (!Files.isRegularFile(inventory)) {
            System.err.println("septa demo: --inventory " + inventory + ": no such file");
            return 2;
        }
        var reporterRef = new java.util.concurrent.atomic.AtomicReference<CallReporter>();
        var demoRef = new java.util.concurrent.atomic.AtomicReference<LocalDemo>();
        var options = new LocalDemo.Options(intents, inventory, stateDir, stateDir.resolve("workloads"),
                interval.isZero() ? Duration.ofSeconds(2) : interval,
                (id, event) -> {
                    CallReporter reporter = reporterRef.get();
                    if (reporter != null) {
                        WorkloadEvents.CallResult.of(id, event).ifPresent(reporter::report);
                    }
                    if (event.kind().equals("error") || (event.kind().equals("serving") && event.field(1).equals("false"))) {
                        out.println("  " + id + ": " + event.kind() + " " + String.join(" ", event.fields()));
                    }
                },
                notice -> out.println("* " + notice));
        out.println("septa demo: starting the control plane on " + intents + " + " + inventory + " ...");
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LocalDemo demo = demoRef.get();
            CallReporter reporting = reporterRef.get();
            if (reporting != null) {
                reporting.stop(); // calls cut short by stopping the workloads are not results
            }
            if (demo != null) {
                out.println();
                out.println("septa demo: stopping " + demo.fleet().processes().size() + " workloads and the control plane"
                        + (reporterRef.get() == null ? "" : " (" + reporterRef.get().totals() + ")"));
                demo.close();
            }
            stopped.countDown();
        }, "septa-demo-shutdown"));
        LocalDemo demo;
        try {
            demo = LocalDemo.start(options);
        } catch (IllegalStateException e) {
            System.err.println("septa demo: " + e.getMessage());
            return 2;
        }
        demoRef.set(demo);
        var reporter = new CallReporter(out, demo::decisions, verbose);
        out.printf("septa demo: control plane xDS/SDS (TLS) on 127.0.0.1:%d, HTTP on http://127.0.0.1:%d/api/status; %d workload processes%n",
                demo.xdsPort(), demo.httpPort(), demo.fleet().processes().size());
        out.printf("Traffic graph: http://127.0.0.1:%d/graph%n", demo.httpPort());
        out.println("septa demo: edit " + intents + " and watch the results change; Ctrl-C stops everything.");
        out.printf("septa demo: cut a workload off from another terminal: ./septa quarantine shop/checkout-1 --reason test"
                + " --server http://127.0.0.1:%d (release: --release)%n", demo.httpPort());
        out.println();
        reporter.header();
        reporterRef.set(reporter);
        stopped.await();
        return 0;
    }
}
