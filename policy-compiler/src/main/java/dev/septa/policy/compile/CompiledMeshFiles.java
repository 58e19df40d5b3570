package dev.septa.policy.compile;

import dev.septa.policy.emit.ProxyResources;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The file layout of {@code septa compile --out DIR} (and of the golden files): per proxy and dialect,
 * {@code <ns>/<name>/<envoy|grpc>/{listeners,routes,clusters,endpoints}.json}, each a JSON array of proto3 JSON
 * resources sorted by name.
 */
public final class CompiledMeshFiles {
    private CompiledMeshFiles() { }

    /** Relative path (with '/') to file content, sorted by path. */
    public static SortedMap<String, String> files(CompiledMesh mesh) {
        SortedMap<String, String> files = new TreeMap<>();
        for (CompiledProxy proxy : mesh.proxies().values()) {
            for (Dialect dialect : Dialect.values()) {
                ProxyResources r = proxy.resources(dialect);
                String dir = proxy.workloadId() + "/" + dialect.name().toLowerCase() + "/";
                files.put(dir + "listeners.json", ProxyJson.printAll(r.listeners()));
                files.put(dir + "routes.json", ProxyJson.printAll(r.routes()));
                files.put(dir + "clusters.json", ProxyJson.printAll(r.clusters()));
                files.put(dir + "endpoints.json", ProxyJson.printAll(r.endpoints()));
            }
        }
        return files;
    }
}
