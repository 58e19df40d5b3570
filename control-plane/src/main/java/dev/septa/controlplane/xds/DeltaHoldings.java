package dev.septa.controlplane.xds;

import io.envoyproxy.controlplane.cache.VersionedResource;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

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

    private final Map<String, String> held;
    /** Entries of the response in flight on this type (at most one, java-control-plane waits for its ACK). */
    private final Map<String, String> inFlight = new HashMap<>();
    private final boolean claimedAny;

    private DeltaHoldings(Map<String, String> initial, TypeResources current) {
        held = new HashMap<>(initial.size() * 4 / 3 + 1);
        initial.forEach((name, version) -> {
            if (!name.equals("*")) {
                // Share the snapshot's version string where it matches: thousands of streams reconnect at once.
                VersionedResource<?> r = current == null ? null : current.byName().get(name);
                held.put(name, r != null && r.version().equals(version) ? r.version() : version);
            }
        });
        claimedAny = !held.isEmpty();
    }

    /** The holdings a stream's first request of a type announces, with {@code current} the type in force (may be null). */
    static DeltaHoldings announced(Map<String, String> initialVersions, TypeResources current) {
        return new DeltaHoldings(initialVersions, current);
    }

    /** The version the client holds of {@code name} by its initial announcement, or null. */
    String version(String name) {
        return held.get(name);
    }

    Set<String> names() {
        return held.keySet();
    }

    /** Whether the client said it held anything of this type when the stream began. */
    boolean claimedAny() {
        return claimedAny;
    }

    /** The response now built names these (sent or removed): their entries wait for its ACK. Returns what moved. */
    Map<String, String> sending(Collection<String> names) {
        Map<String, String> moved = new HashMap<>();
        if (held.isEmpty()) {
            return moved;
        }
        for (String name : names) {
            String version = held.remove(name);
            if (version != null) {
                moved.put(name, version);
            }
        }
        inFlight.putAll(moved);
        return moved;
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
        if (!held.isEmpty() || !inFlight.isEmpty()) {
            names.forEach(name -> {
                held.remove(name);
                inFlight.remove(name);
            });
        }
    }
}
