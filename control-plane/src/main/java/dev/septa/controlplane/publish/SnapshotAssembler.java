package dev.septa.controlplane.publish;

import dev.septa.controlplane.xds.ProxyKey;
import dev.septa.controlplane.xds.ProxySnapshot;
import dev.septa.controlplane.xds.PublishedConfig;
import dev.septa.controlplane.xds.ResourceInterner;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.CompiledProxy;
import dev.septa.policy.compile.Dialect;
import dev.septa.policy.emit.ProxyResources;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns a compiled mesh into the proxies' snapshots: one per distinct (dialect, resources), shared by every proxy
 * with that content. Only what a connected node needs is assembled: the publisher asks for the (node, dialect) pairs
 * connected at publish time, and a node that connects or switches dialect later has its snapshot assembled when
 * the cache first asks ({@link PublishedConfig#snapshotFor}); the compiler likewise emits a dialect only when asked.
 *
 * <p>Work follows the change: a {@link ProxyResources} instance that the previous publish already assembled (the
 * incremental compiler hands unchanged proxies the same instance) gets the same snapshot back without packing or
 * hashing anything; replicas sharing an instance are assembled once. Resources are immutable, so an instance
 * always stands for the same content. Thread-safe: the publisher thread and gRPC threads (on demand) take turns.
 */
final class SnapshotAssembler {
    private final ResourceInterner interner = new ResourceInterner();
    private Map<Dialect, Map<ProxyResources, ProxySnapshot>> previous = byDialect();
    private Generation current;
    private int reused;
    private int built;

    /** Every node's snapshot in both dialects, assembled now (tests, tools: what the publisher did before). */
    Map<ProxyKey, ProxySnapshot> assemble(CompiledMesh mesh) {
        List<ProxyKey> all = new ArrayList<>();
        for (String id : mesh.proxies().keySet()) {
            for (Dialect d : Dialect.values()) {
                all.add(new ProxyKey(id, d));
            }
        }
        return assemble(mesh, all).assembledSoFar();
    }

    /**
     * Starts a publish of {@code mesh}: assembles the snapshots of {@code connected} now and the others when first
     * asked for. Whatever the previous publish assembled (up front or on demand) is reused by instance.
     */
    synchronized PublishedConfig assemble(CompiledMesh mesh, Collection<ProxyKey> connected) {
        interner.nextGeneration();
        if (current != null) {
            previous = current.byResources;
        }
        current = new Generation(mesh);
        reused = 0;
        built = 0;
        for (ProxyKey key : connected) {
            snapshot(current, key);
        }
        return current;
    }

    /** Distinct resource sets of the latest publish whose snapshot was taken over from the one before. */
    synchronized int reused() {
        return reused;
    }

    /** Distinct resource sets of the latest publish that were packed and hashed. */
    synchronized int built() {
        return built;
    }

    private synchronized ProxySnapshot snapshot(Generation g, ProxyKey key) {
        ProxySnapshot known = g.byNode.get(key);
        if (known != null) {
            return known;
        }
        CompiledProxy proxy = g.mesh.proxies().get(key.nodeId());
        ProxyResources resources = proxy == null ? null : proxy.resources(key.dialect()); // emits it if not yet
        ProxySnapshot snapshot = resources == null ? ProxySnapshot.EMPTY
                : g.byResources.get(key.dialect()).computeIfAbsent(resources, r -> {
                    ProxySnapshot before = previous.get(key.dialect()).get(r);
                    if (before != null) {
                        reused++;
                        return g.byContent.computeIfAbsent(before.key(), k -> before);
                    }
                    built++;
                    ProxySnapshot fresh = ProxySnapshot.of(key.dialect(), r, interner);
                    return g.byContent.computeIfAbsent(fresh.key(), k -> fresh);
                });
        g.byNode.put(key, snapshot);
        return snapshot;
    }

    private static Map<Dialect, Map<ProxyResources, ProxySnapshot>> byDialect() {
        Map<Dialect, Map<ProxyResources, ProxySnapshot>> m = new EnumMap<>(Dialect.class);
        for (Dialect d : Dialect.values()) {
            m.put(d, new IdentityHashMap<>());
        }
        return m;
    }

    /**
     * One publish's snapshots. {@link #assembled} reads without the assembler's lock (the cache asks under its own);
     * the rest is guarded by the assembler. A generation that a newer publish replaced still answers (a gRPC thread
     * may have read it just before): its snapshots are right for its mesh, and the cache then looks again.
     */
    private final class Generation implements PublishedConfig {
        private final CompiledMesh mesh;
        private final Map<ProxyKey, ProxySnapshot> byNode = new ConcurrentHashMap<>();
        private final Map<Dialect, Map<ProxyResources, ProxySnapshot>> byResources = byDialect();
        private final Map<String, ProxySnapshot> byContent = new HashMap<>();

        Generation(CompiledMesh mesh) {
            this.mesh = mesh;
        }

        @Override
        public ProxySnapshot assembled(ProxyKey key) {
            ProxySnapshot known = byNode.get(key);
            return known != null || mesh.proxies().containsKey(key.nodeId()) ? known : ProxySnapshot.EMPTY;
        }

        @Override
        public ProxySnapshot snapshotFor(ProxyKey key) {
            ProxySnapshot known = assembled(key);
            return known != null ? known : snapshot(this, key);
        }

        @Override
        public Map<ProxyKey, ProxySnapshot> assembledSoFar() {
            return Collections.unmodifiableMap(byNode);
        }
    }
}
