package dev.septa.controlplane.xds;

import dev.septa.controlplane.auth.NodeAuthorizer;
import dev.septa.policy.compile.Dialect;
import io.envoyproxy.controlplane.cache.ConfigWatcher;
import io.envoyproxy.controlplane.cache.DeltaResponse;
import io.envoyproxy.controlplane.cache.DeltaWatch;
import io.envoyproxy.controlplane.cache.DeltaXdsRequest;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.Response;
import io.envoyproxy.controlplane.cache.Watch;
import io.envoyproxy.controlplane.cache.XdsRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Septa's {@link ConfigWatcher}: answers ADS (state of the world and delta) and SDS from the published snapshots.
 * Differs from java-control-plane's SimpleCache where a real control plane must:
 * <ul>
 *   <li>every (re)subscription is answered at once with the resources that exist (never starved): in SotW a name
 *   left out means "does not exist", in delta it is listed in {@code removed_resources}; a proxyless gRPC client
 *   asking for a client listener it may not reach gets an {@link UnroutedListener} instead;</li>
 *   <li>a NACKed version is recorded and never resent; only a different version answers the stream again;</li>
 *   <li>a node's identity comes from its authenticated stream ({@link StreamSession}), not from each request.</li>
 * </ul>
 * Snapshots are shared: each proxy holds a reference to the {@link ProxySnapshot} of its configuration.
 * Thread-safe: state is guarded by one lock; responses are sent after releasing it.
 */
public final class ProxyConfigCache implements ConfigWatcher, SecretSink {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ProxyConfigCache.class);
    private final Object lock = new Object();
    private final XdsEvents events;
    private final WatchResponder responder;
    private volatile SecretSource secretSource = nodeId -> { };
    /** Who may speak as which node; re-asked for every bound stream whenever the mesh or a node's secrets change. */
    private volatile NodeAuthorizer authorizer = (principal, nodeId) -> true;
    /**
     * Null until the first good compile: before that, watches wait rather than see an empty mesh. Every connected
     * node's snapshot in it is assembled (publish and bind assemble what is missing outside the lock, then look again).
     */
    private PublishedConfig snapshots;
    private final Map<String, ProxyState> proxies = new HashMap<>();
    /** The policy version of {@link #snapshots}, for the audit log (null when the publisher gave none). */
    private String configVersion;

    public ProxyConfigCache(XdsEvents events) {
        this.events = events;
        this.responder = new WatchResponder(events, lock);
    }

    public void secretSource(SecretSource source) {
        this.secretSource = source;
    }

    public void nodeAuthorizer(NodeAuthorizer authorizer) {
        this.authorizer = authorizer;
    }

    /**
     * Makes {@code next} the configuration in force and answers every waiting watch whose content changed. The
     * answers are sent before this returns (so publishes stay in order), spread over a few threads when many proxies
     * changed: each proxy's answers stay on one thread, in order, and a stream serializes its own sends.
     */
    public void publish(Map<ProxyKey, ProxySnapshot> next, long changeNanos) {
        publish(next, changeNanos, null);
    }

    /** As {@link #publish(Map, long)}, naming the policy version the snapshots were compiled from (the audit log's). */
    public void publish(Map<ProxyKey, ProxySnapshot> next, long changeNanos, String version) {
        publish(PublishedConfig.of(next), changeNanos, version);
    }

    /**
     * As {@link #publish(Map, long, String)}, with snapshots that may be assembled on demand: a node connected now
     * whose snapshot {@code next} has not assembled yet (it connected, or switched dialect, after the publisher looked
     * at {@link #connectedKeys}) gets it assembled outside the lock before anything is put in force.
     */
    public void publish(PublishedConfig next, long changeNanos, String version) {
        List<List<Runnable>> sends = new ArrayList<>();
        List<StreamSession> revoked = new ArrayList<>();
        while (true) {
            List<ProxyKey> missing = new ArrayList<>();
            synchronized (lock) {
                for (ProxyState proxy : proxies.values()) {
                    ProxyKey key = new ProxyKey(proxy.nodeId, proxy.dialect);
                    if (next.assembled(key) == null) {
                        missing.add(key);
                    }
                }
                if (missing.isEmpty()) {
                    putInForce(next, changeNanos, version, sends, revoked);
                    break;
                }
            }
            missing.forEach(next::snapshotFor); // then look again: more may have connected meanwhile
        }
        closeRevoked(revoked);
        sendAll(sends);
    }

    /** Nodes connected now, with the dialect each connected with: the snapshots a publish must assemble up front. */
    public Set<ProxyKey> connectedKeys() {
        synchronized (lock) {
            Set<ProxyKey> out = new HashSet<>();
            proxies.values().forEach(p -> out.add(new ProxyKey(p.nodeId, p.dialect)));
            return out;
        }
    }

    /** Makes {@code next} the configuration in force (lock held; every connected node's snapshot is assembled). */
    private void putInForce(PublishedConfig next, long changeNanos, String version, List<List<Runnable>> sends,
                            List<StreamSession> revoked) {
        snapshots = next;
        configVersion = version;
        // A node whose identity changed must not get the new identity's configuration or secrets on a stream
        // its principal no longer admits (issue 11): such streams leave before anything is sent.
        for (ProxyState proxy : List.copyOf(proxies.values())) {
            revokeUnadmitted(proxy, revoked);
        }
        for (ProxyState proxy : proxies.values()) {
            ProxySnapshot config = configFor(proxy.nodeId, proxy.dialect);
            if (proxy.config != null && proxy.config.key().equals(config.key())) {
                continue; // same content: nothing to push
            }
            proxy.config = config;
            proxy.configVersion = configVersion;
            if (proxy.pendingChangeNanos == 0) {
                proxy.pendingChangeNanos = changeNanos;
            }
            List<Runnable> mine = new ArrayList<>(4);
            answerWaiting(proxy, false, mine);
            checkConverged(proxy, mine);
            if (!mine.isEmpty()) {
                sends.add(mine);
            }
        }
    }

    /** Takes the proxy's streams whose principal may no longer act as the node out of the cache (lock held). */
    private void revokeUnadmitted(ProxyState proxy, List<StreamSession> revoked) {
        for (StreamSession session : List.copyOf(proxy.sessions)) {
            if (!authorizer.mayActAs(session.principal(), proxy.nodeId)) {
                session.markClosed();
                session.watches().clear();
                proxy.sessions.remove(session);
                revoked.add(session);
            }
        }
        if (proxy.sessions.isEmpty()) {
            proxies.remove(proxy.nodeId);
        }
    }

    private void closeRevoked(List<StreamSession> revoked) {
        if (revoked.isEmpty()) {
            return;
        }
        for (StreamSession session : revoked) {
            String why = session.principal().describe() + " may no longer act as node " + session.nodeId()
                    + ": its identity in the mesh changed; reconnect with a credential for the new identity";
            LOG.warn("xDS stream closed: {}", why);
            session.revoke(io.grpc.Status.PERMISSION_DENIED.withDescription(why));
        }
        events.connectionsChanged();
    }

    /** Below this many proxies to answer, one thread is quicker than handing work out. */
    private static final int PARALLEL_SENDS_FROM = 64;

    private static void sendAll(List<List<Runnable>> perProxy) {
        int threads = Math.min(Runtime.getRuntime().availableProcessors(), perProxy.size() / PARALLEL_SENDS_FROM + 1);
        if (threads <= 1) {
            perProxy.forEach(ProxyConfigCache::runAll);
            return;
        }
        try (var executor = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (int t = 0; t < threads; t++) {
                int first = t;
                executor.execute(() -> {
                    for (int i = first; i < perProxy.size(); i += threads) {
                        runAll(perProxy.get(i));
                    }
                });
            }
        } // close() waits for every send
    }

    private static void runAll(List<Runnable> sends) {
        for (Runnable send : sends) {
            try {
                send.run();
            } catch (RuntimeException e) {
                LOG.warn("sending a configuration update failed: {}", e.toString());
            }
        }
    }

    /** A node's SDS secrets changed (first issue or rotation). */
    @Override
    public void publishSecrets(String nodeId, TypeResources secrets, Instant certificateExpiry) {
        List<Runnable> sends = new ArrayList<>();
        List<StreamSession> revoked = new ArrayList<>();
        synchronized (lock) {
            ProxyState proxy = proxies.get(nodeId);
            if (proxy == null || (proxy.secrets != null && proxy.secrets.version().equals(secrets.version()))) {
                return;
            }
            // The issuer reads the inventory on its own thread and may certify a new identity before the publish
            // that revokes the old streams: check here too, so an SVID never reaches a stream it does not admit.
            revokeUnadmitted(proxy, revoked);
            if (!proxy.sessions.isEmpty()) {
                proxy.secrets = secrets;
                proxy.certificateExpiry = certificateExpiry;
                answerWaiting(proxy, true, sends);
            }
        }
        closeRevoked(revoked);
        sends.forEach(Runnable::run);
    }

    /** Node ids connected now. */
    @Override
    public Set<String> connectedNodes() {
        synchronized (lock) {
            return Set.copyOf(proxies.keySet());
        }
    }

    @Override
    public boolean connected(String nodeId) {
        synchronized (lock) {
            return proxies.containsKey(nodeId);
        }
    }

    /**
     * Per connected node that was given secrets, the SDS version each of its streams that was sent secrets last
     * ACKed (null: none yet). A root rotation stage checks these against what each version carried.
     */
    public Map<String, List<String>> secretsAcked() {
        String sdsType = Resources.V3.SECRET_TYPE_URL;
        synchronized (lock) {
            Map<String, List<String>> out = new TreeMap<>();
            for (ProxyState p : proxies.values()) {
                if (p.secrets == null) {
                    continue;
                }
                List<String> versions = new ArrayList<>();
                for (StreamSession session : p.sessions) {
                    if (session.lastSent(sdsType) != null) {
                        versions.add(session.acked.get(sdsType));
                    }
                }
                out.put(p.nodeId, versions);
            }
            return out;
        }
    }

    /**
     * Whether the node is out of sync only because it NACKed the version in force of a type: that version is never
     * resent, so the node waits for the next change (Envoy keeps its last good configuration meanwhile). False while
     * a newer version is still on its way to it. For benchmarks and tests that wait for a fleet to settle.
     */
    public boolean waitingOnItsNack(String nodeId) {
        synchronized (lock) {
            ProxyState p = proxies.get(nodeId);
            if (p == null || p.config == null || p.lastNack == null || isConverged(p)) {
                return false;
            }
            for (StreamSession session : p.sessions) {
                for (String typeUrl : session.watchedTypes) {
                    String want = p.current(typeUrl).version();
                    boolean nackedInForce = typeUrl.equals(p.lastNack.typeUrl()) && want.equals(p.lastNack.version());
                    if (!want.equals(session.acked.get(typeUrl)) && !nackedInForce) {
                        return false;
                    }
                }
            }
            return true;
        }
    }

    /** Every connected proxy has ACKed the configuration in force for every type it watches (cheap; for tests). */
    public boolean allInSync() {
        synchronized (lock) {
            for (ProxyState p : proxies.values()) {
                if (!isConverged(p)) {
                    return false;
                }
            }
            return true;
        }
    }

    public int connectedCount(Dialect dialect) {
        synchronized (lock) {
            return (int) proxies.values().stream().filter(p -> p.dialect == dialect).count();
        }
    }

    /** The dialect a connected node's streams announced, if it is connected. */
    public Optional<Dialect> dialectOf(String nodeId) {
        synchronized (lock) {
            ProxyState proxy = proxies.get(nodeId);
            return proxy == null ? Optional.empty() : Optional.ofNullable(proxy.dialect);
        }
    }

    public int distinctSnapshots() {
        synchronized (lock) {
            return snapshots == null ? 0
                    : (int) snapshots.assembledSoFar().values().stream().map(ProxySnapshot::key).distinct().count();
        }
    }

    public List<ProxyStatus> status() {
        synchronized (lock) {
            List<ProxyStatus> out = new ArrayList<>();
            for (ProxyState p : new TreeMap<>(proxies).values()) {
                ProxyState.Nack n = p.lastNack;
                out.add(new ProxyStatus(p.nodeId, p.dialect.name().toLowerCase(), p.sessions.size(),
                        p.config == null ? null : p.config.key(), Map.copyOf(p.acked), isConverged(p),
                        n == null ? null : new ProxyStatus.Nack(n.typeUrl(), n.version(), n.error(), n.at()),
                        p.certificateExpiry, p.connectedSince));
            }
            return out;
        }
    }

    /**
     * Binds the stream to the node, if its principal may act as the node in the mesh in force. Asked under the lock
     * that {@link #publish} holds, so a stream cannot slip in between a mesh change and the revocation it causes.
     */
    boolean bind(StreamSession session, String nodeId, Dialect dialect) {
        ProxyKey key = new ProxyKey(nodeId, dialect);
        while (true) {
            PublishedConfig inForce;
            synchronized (lock) {
                if (!authorizer.mayActAs(session.principal(), nodeId)) {
                    return false;
                }
                inForce = snapshots;
                ProxyState known = proxies.get(nodeId);
                boolean configured = known != null && known.dialect == dialect && known.config != null;
                if (inForce == null || configured || inForce.assembled(key) != null) {
                    session.bind(nodeId, dialect);
                    ProxyState proxy = proxies.computeIfAbsent(nodeId, id -> new ProxyState(id, dialect));
                    proxy.sessions.add(session);
                    if (proxy.dialect != dialect) {
                        proxy.dialect = dialect;
                        proxy.config = null;
                    }
                    if (proxy.config == null && inForce != null) {
                        proxy.config = configFor(nodeId, dialect);
                        proxy.configVersion = configVersion;
                    }
                    break;
                }
            }
            // A newcomer (or a dialect switch) after the publish: assemble its snapshot outside the lock, then bind
            // under it, against whatever configuration is in force by then (a publish in between means look again).
            inForce.snapshotFor(key);
        }
        events.connectionsChanged();
        return true;
    }

    void close(StreamSession session) {
        boolean wasBound;
        synchronized (lock) {
            session.markClosed();
            session.watches().clear();
            wasBound = session.nodeId() != null;
            ProxyState proxy = wasBound ? proxies.get(session.nodeId()) : null;
            if (proxy != null) {
                proxy.sessions.remove(session);
                if (proxy.sessions.isEmpty()) {
                    proxies.remove(session.nodeId());
                }
            }
        }
        if (wasBound) {
            events.connectionsChanged();
        }
    }

    @Override
    public Watch createWatch(boolean ads, XdsRequest request, Set<String> knownResourceNames,
                             Consumer<Response> responseConsumer, boolean hasClusterChanged,
                             boolean allowDefaultEmptyEdsUpdate) {
        Watch watch = new Watch(ads, allowDefaultEmptyEdsUpdate, request, responseConsumer);
        String typeUrl = typeUrl(request.getTypeUrl(), ads);
        boolean nack = request.hasErrorDetail();
        String error = nack ? request.v3Request().getErrorDetail().getMessage() : null;
        register(typeUrl, nack, error, !request.getResponseNonce().isEmpty(), request.getVersionInfo(),
                session -> new OpenWatch(session, typeUrl, watch, null, null), watch::setStop);
        return watch;
    }

    @Override
    public DeltaWatch createDeltaWatch(DeltaXdsRequest request, String requesterVersion,
                                       Map<String, String> resourceVersions, Set<String> pendingResources,
                                       boolean isWildcard, Consumer<DeltaResponse> responseConsumer,
                                       boolean hasClusterChanged) {
        // Names subscribed by this very request that the snapshot lacks are reported removed once (delta's
        // "does not exist"); pending names are otherwise only answered when they appear. Wildcard is decided by
        // the protocol's rule per stream, not java-control-plane's "LDS and CDS are always wildcard".
        String typeUrl = typeUrl(request.getTypeUrl(), true);
        StreamSession stream = StreamSession.current();
        boolean wildcard = stream == null ? isWildcard : stream.deltaWildcard(typeUrl,
                request.v3Request().getResourceNamesSubscribeList(), request.v3Request().getResourceNamesUnsubscribeList());
        Set<String> pending = new HashSet<>(pendingResources);
        pending.remove("*");
        DeltaWatch watch = new DeltaWatch(request, Map.copyOf(resourceVersions), Set.copyOf(pending),
                requesterVersion, wildcard, responseConsumer);
        boolean nack = request.hasErrorDetail();
        String error = nack ? request.v3Request().getErrorDetail().getMessage() : null;
        register(typeUrl, nack, error, !request.getResponseNonce().isEmpty(), null,
                session -> new OpenWatch(session, typeUrl, null, watch, null), watch::setStop);
        return watch;
    }

    /** Common bookkeeping for both flavours: ACK/NACK accounting, then answer now or leave the watch open. */
    private void register(String typeUrl, boolean nack, String error, boolean hasNonce, String sotwVersion,
                          java.util.function.Function<StreamSession, OpenWatch> watchFactory,
                          Consumer<Runnable> setStop) {
        StreamSession session = StreamSession.current();
        if (session == null || session.nodeId() == null) {
            return; // the stream authorizer rejects such requests before they get here
        }
        boolean secrets = isSecret(typeUrl);
        boolean needSecrets = false;
        List<Runnable> sends = new ArrayList<>();
        synchronized (lock) {
            ProxyState proxy = proxies.get(session.nodeId());
            if (session.isClosed() || proxy == null) {
                return;
            }
            StreamSession.Sent last = session.lastSent(typeUrl);
            String suppressed = null;
            if (nack) {
                suppressed = last != null ? last.version() : sotwVersion;
                proxy.lastNack = new ProxyState.Nack(typeUrl, suppressed, error, Instant.now());
                String v = suppressed;
                sends.add(() -> events.nacked(proxy.nodeId, typeUrl, v, error));
                if (v != null && !v.equals(proxy.nackedVersions.put(typeUrl, v))) {
                    String config = proxy.configVersionOf(typeUrl, v);
                    sends.add(() -> events.version(proxy.nodeId, typeUrl, v, config, XdsEvents.VersionOutcome.NACKED, error));
                }
            } else if (hasNonce && last != null && (sotwVersion == null || sotwVersion.equals(last.version()))) {
                String v = last.version();
                if (!v.equals(proxy.acked.put(typeUrl, v))) {
                    String config = proxy.configVersionOf(typeUrl, v);
                    sends.add(() -> events.version(proxy.nodeId, typeUrl, v, config, XdsEvents.VersionOutcome.ACKED, null));
                }
                session.acked.put(typeUrl, v);
            }
            if (!secrets) {
                session.watchedTypes.add(typeUrl);
                checkConverged(proxy, sends);
            }
            OpenWatch base = watchFactory.apply(session);
            if (base.delta() != null) {
                responder.deltaRequestArrived(proxy, session, typeUrl, base.delta(), nack, hasNonce);
            }
            OpenWatch open = new OpenWatch(session, typeUrl, base.sotw(), base.delta(), suppressed);
            Runnable send = responder.answer(proxy, open, true, sends);
            if (send != null) {
                sends.add(send);
            } else {
                session.watches().put(typeUrl, open);
                setStop.accept(() -> session.watches().remove(typeUrl, open));
                if (!secrets) {
                    checkConverged(proxy, sends); // a delta request answered with nothing may have completed the node
                }
            }
            needSecrets = secrets && proxy.secrets == null;
        }
        if (needSecrets) {
            secretSource.requestSecrets(session.nodeId());
        }
        sends.forEach(Runnable::run);
    }

    private void answerWaiting(ProxyState proxy, boolean secrets, List<Runnable> sends) {
        for (StreamSession session : proxy.sessions) {
            for (OpenWatch open : List.copyOf(session.watches().values())) {
                if (isSecret(open.typeUrl()) != secrets) {
                    continue;
                }
                Runnable send = responder.answer(proxy, open, false, sends);
                if (send != null) {
                    session.watches().remove(open.typeUrl(), open);
                    sends.add(send);
                }
            }
        }
    }

    private void checkConverged(ProxyState proxy, List<Runnable> sends) {
        if (proxy.pendingChangeNanos == 0 || !isConverged(proxy)) {
            return;
        }
        Duration latency = Duration.ofNanos(System.nanoTime() - proxy.pendingChangeNanos);
        proxy.pendingChangeNanos = 0;
        String nodeId = proxy.nodeId;
        Dialect dialect = proxy.dialect;
        sends.add(() -> events.converged(nodeId, dialect, latency));
    }

    /** Every stream of the node has ACKed the version in force of every config type it watches. */
    private static boolean isConverged(ProxyState proxy) {
        if (proxy.config == null) {
            return false;
        }
        for (StreamSession session : proxy.sessions) {
            for (String typeUrl : session.watchedTypes) {
                TypeResources t = proxy.config.type(typeUrl);
                String want = t == null ? TypeResources.EMPTY.version() : t.version();
                if (!want.equals(session.acked.get(typeUrl))) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The node's snapshot in force (lock held; publish and bind have made sure it is assembled). */
    private ProxySnapshot configFor(String nodeId, Dialect dialect) {
        ProxySnapshot config = snapshots.assembled(new ProxyKey(nodeId, dialect));
        if (config == null) {
            throw new IllegalStateException("no snapshot assembled for connected node " + nodeId + " (" + dialect + ")");
        }
        return config;
    }

    /** Only ADS and SDS are served, so a non-ADS stream without a type URL is SDS. */
    static String typeUrl(String requested, boolean ads) {
        return requested.isEmpty() && !ads ? Resources.V3.SECRET_TYPE_URL : requested;
    }

    static boolean isSecret(String typeUrl) {
        return Resources.V3.SECRET_TYPE_URL.equals(typeUrl);
    }


}
