package dev.septa.cli;

import dev.septa.controlplane.ControlPlane;
import dev.septa.controlplane.ControlPlaneOptions;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code septa serve}: the control plane in local mode, watching the intents folder and the inventory file. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Run the control plane: compile intents and inventory, push them over xDS (ADS, delta ADS, SDS; TLS),",
                "and serve health, Prometheus metrics and the status API over HTTP. Edits to the files apply live."})
public final class ServeCommand implements Callable<Integer> {
    @Option(names = "--intents", paramLabel = "DIR", required = true, description = "folder of Segment, Intent and MeshConfig YAML")
    Path intents;
    @Option(names = "--inventory", paramLabel = "FILE", description = "Workload and Service YAML (local mode's stand-in for Kubernetes)")
    Path inventory;
    @Option(names = "--state-dir", paramLabel = "DIR", defaultValue = ".septa", description = "CA and node-token key (default ${DEFAULT-VALUE})")
    Path stateDir;
    @Option(names = "--xds-address", paramLabel = "HOST", defaultValue = "127.0.0.1", description = "xDS/SDS bind address (default ${DEFAULT-VALUE})")
    String xdsHost;
    @Option(names = "--xds-port", paramLabel = "PORT", defaultValue = "15010", description = "xDS/SDS port, TLS (default ${DEFAULT-VALUE}; 0 picks one)")
    int xdsPort;
    @Option(names = "--http-address", paramLabel = "HOST", defaultValue = "127.0.0.1", description = "HTTP API and metrics bind address (default ${DEFAULT-VALUE})")
    String httpHost;
    @Option(names = "--http-port", paramLabel = "PORT", defaultValue = "15000", description = "HTTP API and metrics port (default ${DEFAULT-VALUE}; 0 picks one)")
    int httpPort;
    @Option(names = "--min-certificate-ttl", paramLabel = "DURATION", defaultValue = "5m",
            description = "shortest workload certificate lifetime the CA accepts (default ${DEFAULT-VALUE}; down to 2s for tests and demos)")
    String minCertificateTtl;
    @Option(names = "--certificate-ttl", paramLabel = "DURATION",
            description = "workload certificate lifetime, overriding MeshConfig certificateTTL (e.g. 10s with --min-certificate-ttl 5s, to watch rotation)")
    String certificateTtl;
    @Option(names = "--kubernetes", description = "read CRDs and pods from Kubernetes (not available yet)")
    boolean kubernetes;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (kubernetes) {
            err.println("septa serve: --kubernetes is not available yet; use local mode (--intents DIR --inventory FILE)");
            return 2;
        }
        if (!Files.isDirectory(intents)) {
            err.println("septa serve: --intents " + intents + ": not a directory");
            return 2;
        }
        if (inventory != null && !Files.isRegularFile(inventory)) {
            err.println("septa serve: --inventory " + inventory + ": no such file");
            return 2;
        }
        ControlPlaneOptions options;
        try {
            options = ControlPlaneOptions.builder().intentsDir(intents).inventoryFile(inventory)
                    .stateDir(stateDir).xdsHost(xdsHost).xdsPort(xdsPort).httpHost(httpHost).httpPort(httpPort)
                    .minCertificateTtl(CaDurations.parse(minCertificateTtl))
                    .certificateTtl(certificateTtl == null ? null : CaDurations.parse(certificateTtl)).build();
        } catch (IllegalArgumentException e) {
            err.println("septa serve: " + e.getMessage());
            return 2;
        }
        ControlPlane cp;
        try {
            cp = ControlPlane.start(options);
        } catch (RuntimeException e) {
            err.println("septa serve: cannot start: " + rootMessage(e));
            return 2;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            cp.close();
            stopped.countDown();
        }, "septa-shutdown"));
        out.printf("septa serve: xDS/SDS/ALS (TLS) on %s:%d, HTTP on http://%s:%d (/api/status, /api/graph, /health, /prometheus)%n",
                xdsHost, cp.xdsPort(), httpHost, cp.httpPort());
        out.printf("Traffic graph: http://%s:%d/graph%n", httpHost, cp.httpPort());
        out.printf("septa serve: trust bundle %s; bootstrap a workload with: septa bootstrap --workload NS/NAME --state-dir %s%n",
                stateDir.resolve("ca").resolve("trust-bundle.pem"), stateDir);
        var compile = cp.core().status().compile();
        if (!compile.ok()) {
            err.println("septa serve: the input does not compile yet; serving no configuration until it does:");
            compile.errors().forEach(e -> err.println("  " + e));
        }
        out.flush();
        stopped.await();
        return 0;
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }
}
