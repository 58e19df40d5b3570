package dev.septa.controlplane.xds;

import java.util.Map;

/**
 * The configuration one publish puts in force: each node's {@link ProxySnapshot} per dialect. A node connects with
 * one dialect, so a snapshot may be assembled only when a node first needs it; the publisher assembles those of the
 * nodes connected at publish time up front, and {@link ProxyConfigCache} asks for a newcomer's (or a dialect
 * switch's) outside its lock. Thread-safe.
 */
public interface PublishedConfig {
    /**
     * The snapshot if it is assembled already, without blocking; null if it must be {@linkplain #snapshotFor
     * assembled} first. A node the mesh does not have gets {@link ProxySnapshot#EMPTY}.
     */
    ProxySnapshot assembled(ProxyKey key);

    /** The snapshot, assembled now if no one needed it before (may pack and hash: never call it under a busy lock). */
    ProxySnapshot snapshotFor(ProxyKey key);

    /** The snapshots assembled so far (for status and metrics): the connected nodes' at least. */
    Map<ProxyKey, ProxySnapshot> assembledSoFar();

    /** Every snapshot assembled already (tests, tools): nodes not in {@code all} get {@link ProxySnapshot#EMPTY}. */
    static PublishedConfig of(Map<ProxyKey, ProxySnapshot> all) {
        Map<ProxyKey, ProxySnapshot> copy = Map.copyOf(all);
        return new PublishedConfig() {
            @Override
            public ProxySnapshot assembled(ProxyKey key) {
                return copy.getOrDefault(key, ProxySnapshot.EMPTY);
            }

            @Override
            public ProxySnapshot snapshotFor(ProxyKey key) {
                return assembled(key);
            }

            @Override
            public Map<ProxyKey, ProxySnapshot> assembledSoFar() {
                return copy;
            }
        };
    }
}
