package dev.septa.controlplane.publish;

import dev.septa.controlplane.xds.ProxyKey;
import dev.septa.controlplane.xds.ProxySnapshot;
import dev.septa.controlplane.xds.ResourceInterner;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.CompiledProxy;
import dev.septa.policy.compile.Dialect;
import dev.septa.policy.emit.ProxyResources;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Turns a compiled mesh into the proxies' snapshots: one per distinct (dialect, resources), shared by every proxy
 * with that content. Work follows the change: a {@link ProxyResources} instance that the previous publish already
 * assembled (the incremental compiler hands unchanged proxies the same instance) gets the same snapshot back
 * without packing or hashing anything; replicas sharing an instance are assembled once. Resources are immutable,
 * so an instance always stands for the same content. Not thread-safe: one per publisher.
 */
final class SnapshotAssembler {
    private final ResourceInterner interner = new ResourceInterner();
    private Map<Dialect, Map<ProxyResources, ProxySnapshot>> previous = byDialect();
    private int reused;
    private int built;

    Map<ProxyKey, ProxySnapshot> assemble(CompiledMesh mesh) {
        interner.nextGeneration();
        Map<Dialect, Map<ProxyResources, ProxySnapshot>> current = byDialect();
        Map<String, ProxySnapshot> byKey = new HashMap<>();
        Map<ProxyKey, ProxySnapshot> out = new HashMap<>();
        reused = 0;
        built = 0;
        for (CompiledProxy proxy : mesh.proxies().values()) {
            for (Dialect dialect : Dialect.values()) {
                ProxyResources resources = proxy.resources(dialect);
                if (resources == null) {
                    continue;
                }
                ProxySnapshot snapshot = current.get(dialect).computeIfAbsent(resources, r -> {
                    ProxySnapshot known = previous.get(dialect).get(r);
                    if (known != null) {
                        reused++;
                        return byKey.computeIfAbsent(known.key(), k -> known);
                    }
                    built++;
                    ProxySnapshot fresh = ProxySnapshot.of(dialect, r, interner);
                    return byKey.computeIfAbsent(fresh.key(), k -> fresh);
                });
                out.put(new ProxyKey(proxy.workloadId(), dialect), snapshot);
            }
        }
        previous = current;
        return out;
    }

    /** Distinct resource sets of the latest publish whose snapshot was taken over from the one before. */
    int reused() {
        return reused;
    }

    /** Distinct resource sets of the latest publish that were packed and hashed. */
    int built() {
        return built;
    }

    private static Map<Dialect, Map<ProxyResources, ProxySnapshot>> byDialect() {
        Map<Dialect, Map<ProxyResources, ProxySnapshot>> m = new EnumMap<>(Dialect.class);
        for (Dialect d : Dialect.values()) {
            m.put(d, new IdentityHashMap<>());
        }
        return m;
    }
}
