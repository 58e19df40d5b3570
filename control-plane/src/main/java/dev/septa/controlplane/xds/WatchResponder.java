package dev.septa.controlplane.xds;

import com.google.protobuf.Message;
import io.envoyproxy.controlplane.cache.DeltaResponse;
import io.envoyproxy.controlplane.cache.DeltaWatch;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.Response;
import io.envoyproxy.controlplane.cache.VersionedResource;
import io.envoyproxy.controlplane.cache.Watch;
import io.envoyproxy.controlplane.cache.WatchCancelledException;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The response a watch gets now, for {@link ProxyConfigCache}: decides it from what is in force and what the stream
 * was sent, ACKed or announced ({@link WatchAnswers} picks the resources), records it on the stream, and hands it
 * back as a task to run outside the cache's lock, with its audit event. Called with the cache's lock held.
 */
final class WatchResponder {

    /**
     * Types whose state-of-the-world answers to an unchanged subscription carry only the resources that changed since
     * the version the client holds (the xDS protocol, "Grouping Resources into Responses": every type but Listener and
     * Cluster is grouped as in delta; a resource left out is kept by the client, not deleted). After an endpoint
     * change a proxy is sent that one ClusterLoadAssignment, not all it subscribes to. A new subscription (other
     * names), a NACK or an answer the client did not get (its request names another version) gets them all, and so
     * does an EDS answer after the proxy's clusters changed.
     */
    private static final Set<String> CHANGES_ONLY_IN_SOTW = Set.of(Resources.V3.ROUTE_TYPE_URL, Resources.V3.ENDPOINT_TYPE_URL);

    private final XdsEvents events;
    /** The cache's lock: an undelivered delta answer gives its announced entries back under it. */
    private final Object lock;

    WatchResponder(XdsEvents events, Object lock) {
        this.events = events;
        this.lock = lock;
    }

    /**
     * Delta: what the client holds, before the request is answered (lock held). The first request of a type
     * announces it ({@code initial_resource_versions}); the request after a response ACKs or NACKs what it named.
     */
    void deltaRequestArrived(ProxyState proxy, StreamSession session, String typeUrl, DeltaWatch watch, boolean nack,
                             boolean hasNonce) {
        var request = watch.request().v3Request();
        DeltaHoldings holdings = session.deltaHoldings(typeUrl,
                () -> DeltaHoldings.announced(request.getInitialResourceVersionsMap(), proxy.current(typeUrl)));
        if (nack) {
            holdings.nacked();
        } else if (hasNonce) {
            holdings.acked();
        }
        holdings.unsubscribed(request.getResourceNamesUnsubscribeList());
    }

    /**
     * The response this watch gets now, as a task to run outside the lock, or null to keep waiting ({@code sends}
     * takes what else must run then, such as the audit of a version held without an answer).
     */
    Runnable answer(ProxyState proxy, OpenWatch open, boolean fresh, List<Runnable> sends) {
        TypeResources current = proxy.current(open.typeUrl());
        if (current == null || current.version().equals(open.suppressedVersion())) {
            return null;
        }
        StreamSession session = open.session();
        if (open.sotw() != null) {
            Watch watch = open.sotw();
            Set<String> names = new TreeSet<>(watch.request().getResourceNamesList());
            StreamSession.Sent last = session.lastSent(open.typeUrl());
            boolean sameNames = last != null && new TreeSet<>(last.requestedNames()).equals(names);
            if (sameNames && current.version().equals(watch.request().getVersionInfo())) {
                return null; // the client has this version with these names: an ACK, wait for a change
            }
            TypeResources held = sameNames && !names.isEmpty() && CHANGES_ONLY_IN_SOTW.contains(open.typeUrl())
                    && last.version().equals(watch.request().getVersionInfo()) ? last.state() : null;
            boolean endpoints = Resources.V3.ENDPOINT_TYPE_URL.equals(open.typeUrl());
            String clusters = endpoints ? proxy.current(Resources.V3.CLUSTER_TYPE_URL).version() : null;
            if (endpoints && !clusters.equals(session.clustersAtLastEndpoints)) {
                // Clusters changed since: an Envoy re-warms each updated cluster and waits for its endpoints, which
                // an answer of changed endpoints only would leave out (java-control-plane's hasClusterChanged case).
                held = null;
            }
            Collection<Message> resources = WatchAnswers.sotw(open.typeUrl(), names, current, held, proxy.dialect);
            session.recordSent(open.typeUrl(), new StreamSession.Sent(current.version(), List.copyOf(names), current));
            if (endpoints) {
                session.clustersAtLastEndpoints = clusters;
            }
            Response response = Response.create(watch.request(), resources, current.version());
            return delivery(proxy, open.typeUrl(), current.version(), () -> watch.respond(response), () -> { });
        }
        DeltaWatch watch = open.delta();
        Set<String> removedBefore = session.deltaRemoved(open.typeUrl());
        if (!removedBefore.isEmpty()) {
            removedBefore.removeIf(watch.trackedResources()::containsKey); // the client ACKed it back
        }
        DeltaHoldings announced = session.deltaHoldings(open.typeUrl());
        Map<String, VersionedResource<?>> changed = WatchAnswers.deltaChanged(watch, current, removedBefore, announced);
        Set<String> removed = WatchAnswers.deltaRemoved(watch, current, fresh, announced);
        boolean firstAnswer = session.lastSent(open.typeUrl()) == null;
        if (changed.isEmpty() && removed.isEmpty() && !(firstAnswer && watch.isWildcard() && !announced.claimedAny())) {
            // The client already holds what is in force for everything it subscribes (a change elsewhere, or a
            // reconnect holding it all), so it is sent nothing and no ACK will come: it holds this version. (An open
            // watch means no response is in flight on this stream.) A new wildcard subscriber that holds nothing is
            // still answered, if only with an empty response, so that it knows the set is empty.
            heldWithoutAnswer(proxy, session, open.typeUrl(), current.version(), sends);
            return null;
        }
        Set<String> named = new HashSet<>(changed.keySet());
        named.addAll(removed);
        Map<String, String> moved = announced.sending(named);
        session.recordSent(open.typeUrl(), new StreamSession.Sent(current.version(), List.of(), current));
        if (!watch.isWildcard()) {
            session.deltaRemoved(open.typeUrl(), removed); // still subscribed: sent again if it comes back
        }
        DeltaResponse response = DeltaResponse.create(watch.request(), changed, List.copyOf(removed), current.version());
        return delivery(proxy, open.typeUrl(), current.version(), () -> watch.respond(response), () -> {
            if (!moved.isEmpty()) { // the client still holds what it announced
                synchronized (lock) {
                    announced.notDelivered(moved);
                }
            }
        });
    }

    /** Hands a response to its watch; java-control-plane refuses it once a newer request on the stream replaced the watch. */
    private interface Respond {
        void run() throws WatchCancelledException;
    }

    /**
     * The task that sends a response, then records it as pushed and, the first time, in the audit (decided now, lock
     * held); {@code superseded} runs instead when a newer request on the same stream replaced the watch meanwhile.
     */
    private Runnable delivery(ProxyState proxy, String typeUrl, String version, Respond respond, Runnable superseded) {
        Runnable audit = firstSent(proxy, typeUrl, version);
        String nodeId = proxy.nodeId;
        return () -> {
            try {
                respond.run();
                events.pushed(nodeId, typeUrl, version);
                audit.run();
            } catch (WatchCancelledException ignored) {
                superseded.run();
            }
        };
    }

    /**
     * A delta stream that needs nothing of this type holds the version in force, as if it had ACKed it: it counts
     * as in sync, the status shows the version and the audit records it as ACKed (lock held).
     */
    private void heldWithoutAnswer(ProxyState proxy, StreamSession session, String typeUrl, String version, List<Runnable> sends) {
        session.acked.put(typeUrl, version);
        if (!version.equals(proxy.acked.put(typeUrl, version))) {
            String config = proxy.configVersionOf(typeUrl, version);
            String nodeId = proxy.nodeId;
            sends.add(() -> events.version(nodeId, typeUrl, version, config, XdsEvents.VersionOutcome.ACKED, null));
        }
    }

    /**
     * The audit's "sent" for this node, type and version if it is the first (lock held; run after the send).
     * Decided when the answer is built: a send that then fails was still attempted, and is retried with the same version.
     */
    private Runnable firstSent(ProxyState proxy, String typeUrl, String version) {
        if (version.equals(proxy.sentVersions.put(typeUrl, version))) {
            return () -> { };
        }
        String config = proxy.configVersionOf(typeUrl, version);
        String nodeId = proxy.nodeId;
        return () -> events.version(nodeId, typeUrl, version, config, XdsEvents.VersionOutcome.SENT, null);
    }
}
