package dev.septa.controlplane.support;

import dev.septa.controlplane.publish.MeshCompilation;
import dev.septa.policy.parse.InputFile;
import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.CompiledProxy;
import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.emit.ProxyResources;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.MeshConfig;
import dev.septa.policy.model.ObjectMeta;
import dev.septa.policy.model.Source;
import dev.septa.policy.model.Workload;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A stand-in for the policy compiler, so the server is tested on its own: one statement per line.
 * <pre>
 * workload NS/NAME SERVICE_ACCOUNT
 * listener NS/NAME LISTENER_NAME PORT
 * cluster NS/NAME CLUSTER_NAME
 * error    (a compile error at this line, column 1)
 * recurse  (the compiler recurses until the stack overflows: a compiler bug, not bad input)
 * </pre>
 */
public final class LineCompilation implements MeshCompilation {
    @Override
    public CompileResult compile(List<InputFile> files) {
        List<Diagnostic> diagnostics = new ArrayList<>();
        List<Workload> workloads = new ArrayList<>();
        Map<String, List<Listener>> listeners = new LinkedHashMap<>();
        Map<String, List<Cluster>> clusters = new LinkedHashMap<>();
        for (InputFile file : files) {
            String[] lines = file.text().split("\n", -1);
            for (int i = 0; i < lines.length; i++) {
                String[] w = lines[i].strip().split("\\s+");
                Source at = new Source(file.name(), i + 1, 1);
                switch (w[0]) {
                    case "workload" -> {
                        String[] id = w[1].split("/");
                        workloads.add(new Workload(new ObjectMeta(id[1], id[0], Map.of()), w[2], "127.0.0.1", List.of(), at));
                        listeners.computeIfAbsent(w[1], k -> new ArrayList<>());
                        clusters.computeIfAbsent(w[1], k -> new ArrayList<>());
                    }
                    case "listener" -> listeners.computeIfAbsent(w[1], k -> new ArrayList<>()).add(Listener.newBuilder()
                            .setName(w[2]).setAddress(Address.newBuilder().setSocketAddress(SocketAddress.newBuilder()
                                    .setAddress("0.0.0.0").setPortValue(Integer.parseInt(w[3])))).build());
                    case "cluster" -> clusters.computeIfAbsent(w[1], k -> new ArrayList<>())
                            .add(Cluster.newBuilder().setName(w[2]).build());
                    case "error" -> diagnostics.add(Diagnostic.error(at, "this line is an error"));
                    case "recurse" -> recurse(0);
                    default -> { }
                }
            }
        }
        if (!diagnostics.isEmpty()) {
            return new CompileResult(diagnostics, Optional.empty());
        }
        TreeMap<String, CompiledProxy> proxies = new TreeMap<>();
        for (Workload wl : workloads) {
            ProxyResources r = new ProxyResources(listeners.getOrDefault(wl.id(), List.of()), List.of(),
                    clusters.getOrDefault(wl.id(), List.of()), List.of());
            proxies.put(wl.id(), new CompiledProxy(wl.id(), r, r));
        }
        Mesh mesh = new Mesh(MeshConfig.DEFAULT, List.of(), List.of(), workloads, List.of());
        return new CompileResult(diagnostics, Optional.of(new CompiledMesh(mesh, proxies, List.of())));
    }

    private static int recurse(int depth) {
        return recurse(depth + 1) + 1;
    }
}
