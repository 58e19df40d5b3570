package dev.septa.controlplane.xds;

import dev.septa.controlplane.auth.Principal;
import dev.septa.policy.compile.Dialect;
import io.grpc.Context;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One xDS stream: who authenticated it, the node it bound to on its first request, and per type what was last
 * sent on it (for ACK/NACK bookkeeping) and the watch that is open. Lives exactly as long as the gRPC call.
 */
public final class StreamSession {
    static final Context.Key<StreamSession> KEY = Context.key("septa-stream");

    private final Principal principal;
    private volatile String nodeId;
    private volatile Dialect dialect;
    private volatile boolean closed;
    /** Ends the gRPC call from outside it (set by the interceptor; a no-op for sessions built in tests). */
    private volatile java.util.function.Consumer<io.grpc.Status> revoker = status -> { };
    private final Map<String, Sent> lastSent = new ConcurrentHashMap<>();
    private final Map<String, OpenWatch> watches = new ConcurrentHashMap<>();
    /** Config types this stream watches and what it ACKed of each; guarded by the cache's lock. */
    final Map<String, String> acked = new java.util.HashMap<>();
    final java.util.Set<String> watchedTypes = new java.util.HashSet<>();
    /** Delta only: per type, whether the client subscribed as a wildcard (requests of one stream arrive in order). */
    private final Map<String, Boolean> deltaWildcard = new ConcurrentHashMap<>();
    private final Map<String, java.util.Set<String>> deltaRemoved = new ConcurrentHashMap<>();
    /** Delta only: per type, what the client announced it held on its first request (guarded by the cache's lock). */
    private final Map<String, DeltaHoldings> deltaHoldings = new java.util.HashMap<>();
    /** SotW: the cluster version in force when endpoints were last sent on this stream (guarded by the cache's lock). */
    String clustersAtLastEndpoints;

    StreamSession(Principal principal) {
        this.principal = principal;
    }

    /** The session of the stream whose callback is running, or null outside an authenticated call. */
    public static StreamSession current() {
        return KEY.get();
    }

    public Principal principal() {
        return principal;
    }

    public String nodeId() {
        return nodeId;
    }

    public Dialect dialect() {
        return dialect;
    }

    void bind(String nodeId, Dialect dialect) {
        this.nodeId = nodeId;
        this.dialect = dialect;
    }

    boolean isClosed() {
        return closed;
    }

    void markClosed() {
        closed = true;
    }

    void revoker(java.util.function.Consumer<io.grpc.Status> revoker) {
        this.revoker = revoker;
    }

    /** Closes the stream with {@code status}; the session must already be out of the cache. */
    void revoke(io.grpc.Status status) {
        markClosed();
        revoker.accept(status);
    }

    Sent lastSent(String typeUrl) {
        return lastSent.get(typeUrl);
    }

    void recordSent(String typeUrl, Sent sent) {
        lastSent.put(typeUrl, sent);
    }

    /**
     * The delta wildcard state of a type after this request, by the xDS protocol: the first request of a type is a
     * wildcard subscription when it names nothing or names {@code *}; afterwards only subscribing or unsubscribing
     * {@code *} changes it. (java-control-plane treats every delta LDS/CDS stream as wildcard, which sends a client
     * that asked for one listener all of them.)
     */
    boolean deltaWildcard(String typeUrl, List<String> subscribe, List<String> unsubscribe) {
        java.util.Set<String> gone = deltaRemoved.get(typeUrl);
        if (gone != null) {
            unsubscribe.forEach(gone::remove);
        }
        return deltaWildcard.compute(typeUrl, (type, before) -> {
            boolean wildcard = before == null ? subscribe.isEmpty() || subscribe.contains("*") : before;
            if (subscribe.contains("*")) {
                wildcard = true;
            }
            if (unsubscribe.contains("*")) {
                wildcard = false;
            }
            return wildcard;
        });
    }

    /**
     * Delta only: names this by-name subscriber was told were removed and has not unsubscribed. Removal is not
     * unsubscription (the protocol), so such a resource must be sent when it exists again; java-control-plane forgets
     * the name, dropping it from both its tracked and pending sets. Only removed names are kept, not every subscribed
     * one. Guarded by the cache's lock where written from an answer; unsubscriptions remove concurrently.
     */
    java.util.Set<String> deltaRemoved(String typeUrl) {
        return deltaRemoved.getOrDefault(typeUrl, java.util.Set.of());
    }

    /** Records names reported removed to a by-name subscriber (the set is made on first use only). */
    void deltaRemoved(String typeUrl, java.util.Collection<String> names) {
        if (!names.isEmpty()) {
            deltaRemoved.computeIfAbsent(typeUrl, t -> ConcurrentHashMap.newKeySet()).addAll(names);
        }
    }

    /** What the client announced it held of a type when the stream began, and the server has not answered since. */
    DeltaHoldings deltaHoldings(String typeUrl) {
        return deltaHoldings.getOrDefault(typeUrl, DeltaHoldings.NONE);
    }

    /** Keeps the first request's announcement of a type; later requests cannot announce again (the protocol). */
    DeltaHoldings deltaHoldings(String typeUrl, java.util.function.Supplier<DeltaHoldings> announced) {
        return deltaHoldings.computeIfAbsent(typeUrl, t -> announced.get());
    }

    Map<String, OpenWatch> watches() {
        return watches;
    }

    /**
     * What went out last for one type: the version, (SotW) the names the client had asked for, and the type's
     * resources at that version, which a client that ACKed it holds (shared with the snapshot, not a copy).
     */
    record Sent(String version, List<String> requestedNames, TypeResources state) {}
}
