package dev.septa.controlplane.xds;

import io.envoyproxy.controlplane.cache.VersionedResource;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What a delta client said it held of one type when its stream began ({@code initial_resource_versions}) and the
 * server has not answered since. java-control-plane starts its tracked map empty on every stream and only logs those
 * versions, so without this a reconnecting proxy would be sent everything again and never told of a resource it
 * holds that is gone. An entry leaves when a response carrying that name (as a resource or as removed) is ACKed, from
 * then on the tracked map knows it; a NACKed or undelivered response puts its entries back, since the client still
 * holds what it held. Guarded by the cache's lock.
 */
final class DeltaHoldings {
    static final DeltaHoldings NONE = new DeltaHoldings(Map.of(), null);

    /**
     * The type in force when the stream began, if most of the announcement matched it: the client holds each of its
     * resources at that version, except those in {@link #notFromBase}. A storm of reconnects holding the current
     * configuration then costs no per-resource memory (the snapshot is shared).
     */
    private final TypeResources base;
    private final Set<String> notFromBase = new HashSet<>();
    /** Announced entries {@link #base} does not cover, and entries put back after a NACK. */
    private final Map<String, String> held = new HashMap<>();
    /** Entries of the response in flight on this type (at most one, java-control-plane waits for its ACK). */
    private final Map<String, String> inFlight = new HashMap<>();
    private final boolean claimedAny;

    private DeltaHoldings(Map<String, String> initial, TypeResources current) {
        Map<String, String> matching = new HashMap<>();
        initial.forEach((name, version) -> {
            VersionedResource<?> r = current == null ? null : current.byName().get(name);
            if (r != null && r.version().equals(version)) {
                matching.put(name, r.version());
            } else if (!name.equals("*")) {
                held.put(name, version);
            }
        });
        if (!matching.isEmpty() && matching.size() * 2 >= current.byName().size()) {
            base = current;
            base.byName().keySet().stream().filter(name -> !matching.containsKey(name)).forEach(notFromBase::add);
        } else {
            base = null;
            held.putAll(matching); // the snapshot's version strings, shared
        }
        claimedAny = !initial.isEmpty();
    }

    /**
     * The holdings a stream's first request of a type announces, with {@code current} the type in force (may be
     * null). A new proxy announces nothing: it shares {@link #NONE}, which nothing changes (it holds no entry).
     */
    static DeltaHoldings announced(Map<String, String> initialVersions, TypeResources current) {
        return initialVersions.isEmpty() ? NONE : new DeltaHoldings(initialVersions, current);
    }

    /** The version the client holds of {@code name} by its announcement, or null. */
    String version(String name) {
        String version = held.get(name);
        if (version != null || base == null || notFromBase.contains(name)) {
            return version;
        }
        VersionedResource<?> r = base.byName().get(name);
        return r == null ? null : r.version();
    }

    /** The names held by the announcement that are not in {@code current}. */
    Stream<String> absentFrom(TypeResources current) {
        Stream<String> explicit = held.keySet().stream().filter(name -> !current.byName().containsKey(name));
        if (base == null || base.version().equals(current.version())) {
            return explicit;
        }
        return Stream.concat(explicit, base.byName().keySet().stream()
                .filter(name -> !notFromBase.contains(name) && !current.byName().containsKey(name)));
    }

    /** Whether the client announced holding anything of this type when the stream began. */
    boolean claimedAny() {
        return claimedAny;
    }

    /** The response now built names these (sent or removed): their entries wait for its ACK. Returns what moved. */
    Map<String, String> sending(Collection<String> names) {
        Map<String, String> moved = new HashMap<>();
        if (held.isEmpty() && base == null) {
            return moved;
        }
        for (String name : names) {
            String version = forget(name);
            if (version != null) {
                moved.put(name, version);
            }
        }
        inFlight.putAll(moved);
        return moved;
    }

    private String forget(String name) {
        String version = version(name);
        if (version != null) {
            held.remove(name);
            if (base != null && base.byName().containsKey(name)) {
                notFromBase.add(name);
            }
        }
        return version;
    }

    /** The response in flight was ACKed: the tracked map now says what the client holds of those names. */
    void acked() {
        inFlight.clear();
    }

    /** The response in flight was NACKed: the client kept what it held. */
    void nacked() {
        putBack(Map.copyOf(inFlight));
    }

    /** A response that was built but never sent (its watch was superseded). */
    void notDelivered(Map<String, String> moved) {
        putBack(moved);
    }

    private void putBack(Map<String, String> entries) {
        entries.forEach((name, version) -> {
            if (inFlight.remove(name, version)) {
                held.putIfAbsent(name, version);
            }
        });
    }

    /** Unsubscribed names: the client drops them, so they are no longer held. */
    void unsubscribed(Collection<String> names) {
        if (!held.isEmpty() || base != null || !inFlight.isEmpty()) {
            names.forEach(name -> {
                forget(name);
                inFlight.remove(name);
            });
        }
    }
}
