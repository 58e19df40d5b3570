package dev.septa.bench;

import com.google.protobuf.MessageLite;
import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.CompiledProxy;
import dev.septa.policy.compile.Dialect;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.emit.ProxyResources;
import dev.septa.policy.parse.InputFile;
import java.util.List;
import java.util.stream.Stream;

/**
 * Bytes per proxy under {@code defaultAction: Allow} with and without Segment {@code spec.egress} (decision 0009), on
 * the fleet benchmark's mesh shape: N workloads in one namespace, N/10 apps of 10 replicas, one Service per app, a
 * chain of Allow intents app-i -> app-(i+1). A plain main (one compile per variant is the measurement):
 * {@code java -cp benchmarks/target/benchmarks.jar dev.septa.bench.EgressScopingMeasurement 10000}.
 *
 * <p>Variants: {@code unscoped} (no egress: every proxy gets every Service), {@code scoped-10} (each app's Segment
 * names the Services of the next 10 apps, a service calling a handful of others), {@code scoped-none}
 * ({@code egress: []}: only what its Allow intent names). Bytes are the serialized size of each proxy's resources
 * (listeners, routes, clusters, endpoints), as sent inside the xDS {@code Any}s; compile-ms is one full compile
 * (parse included) after a warm-up compile of every variant.
 */
public final class EgressScopingMeasurement {
    private EgressScopingMeasurement() { }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int apps = Math.max(2, n / 10);
        List<String> variants = List.of("unscoped", "scoped-namespace", "scoped-10", "scoped-none");
        for (String variant : variants) {
            PolicyCompiler.compile(mesh(n, apps, variant)); // warm-up, so that no variant pays for the JIT
        }
        for (String variant : variants) {
            List<InputFile> inputs = mesh(n, apps, variant);
            long t0 = System.nanoTime();
            CompileResult result = PolicyCompiler.compile(inputs);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            CompiledMesh mesh = result.mesh().orElseThrow(() -> new IllegalStateException(result.diagnostics().toString()));
            long envoy = 0;
            long grpc = 0;
            long clusters = 0;
            for (CompiledProxy p : mesh.proxies().values()) {
                envoy += bytes(p.resources(Dialect.ENVOY));
                grpc += bytes(p.resources(Dialect.GRPC));
                clusters += p.envoy().clusters().size();
            }
            int proxies = mesh.proxies().size();
            System.out.printf("egress N=%d variant=%s proxies=%d clusters-per-proxy=%.1f envoy-kb-per-proxy=%.1f "
                            + "grpc-kb-per-proxy=%.1f envoy-mb-fleet=%.0f compile-ms=%d%n", n, variant, proxies,
                    clusters / (double) proxies, envoy / 1024.0 / proxies, grpc / 1024.0 / proxies, envoy / 1048576.0, ms);
        }
    }

    private static long bytes(ProxyResources r) {
        return Stream.of(r.listeners(), r.routes(), r.clusters(), r.endpoints()).flatMap(List::stream)
                .map(MessageLite.class::cast).mapToLong(MessageLite::getSerializedSize).sum();
    }

    static List<InputFile> mesh(int n, int apps, String variant) {
        StringBuilder y = new StringBuilder("""
                apiVersion: septa.dev/v1alpha1
                kind: MeshConfig
                metadata: {name: mesh}
                spec: {trustDomain: cluster.local, defaultAction: Allow, mtls: Strict, certificateTTL: 1h}
                ---
                """);
        for (int a = 0; a < apps; a++) {
            y.append("""
                    apiVersion: septa.dev/v1alpha1
                    kind: Segment
                    metadata: {name: app-%d, namespace: bench}
                    spec:
                      selector: {matchLabels: {app: app-%d}}
                    """.formatted(a, a));
            if (variant.equals("scoped-namespace")) {
                y.append("  egress: [{namespace: bench}]\n");
            } else if (variant.equals("scoped-none")) {
                y.append("  egress: []\n");
            } else if (variant.equals("scoped-10")) {
                y.append("  egress:\n");
                for (int k = 1; k <= 10; k++) {
                    y.append("    - service: app-").append((a + k) % apps).append('\n');
                }
            }
            y.append("---\n");
            y.append("""
                    apiVersion: septa.dev/v1alpha1
                    kind: Service
                    metadata: {name: app-%d, namespace: bench}
                    spec: {selector: {app: app-%d}, ports: [{name: grpc, port: 8080, protocol: GRPC}]}
                    ---
                    """.formatted(a, a));
            if (a + 1 < apps) {
                y.append("""
                        apiVersion: septa.dev/v1alpha1
                        kind: Intent
                        metadata: {name: app-%d-to-%d, namespace: bench}
                        spec:
                          action: Allow
                          from: [{segment: app-%d}]
                          to: {segment: app-%d, ports: [{port: 8080, protocol: GRPC}]}
                        ---
                        """.formatted(a, a + 1, a, a + 1));
            }
        }
        for (int i = 0; i < n; i++) {
            int app = i % apps;
            y.append("""
                    apiVersion: septa.dev/v1alpha1
                    kind: Workload
                    metadata: {name: app-%d-%d, namespace: bench, labels: {app: app-%d}}
                    spec: {serviceAccount: app-%d, address: 127.%d.%d.%d, ports: [{name: grpc, port: 8080, protocol: GRPC}]}
                    ---
                    """.formatted(app, i / apps, app, app, 10 + i / 62500, (i / 250) % 250, i % 250 + 1));
        }
        return List.of(new InputFile("mesh.yaml", y.toString()));
    }
}
