package dev.septa.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import dev.septa.controlplane.auth.Principal;
import dev.septa.policy.compile.Dialect;
import dev.septa.policy.emit.ProxyResources;
import io.envoyproxy.controlplane.cache.DeltaResponse;
import io.envoyproxy.controlplane.cache.DeltaXdsRequest;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.Response;
import io.envoyproxy.controlplane.cache.XdsRequest;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.Context;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * What goes out on a push, checked at the cache with clients that apply responses as the xDS protocol says: delta
 * sends only changed and removed resources; state of the world sends full state for listeners and clusters and only
 * changed routes and endpoints; every stream is handed the same packed resource, serialized once.
 */
class PushContentTest {
    static final String LDS = Resources.V3.LISTENER_TYPE_URL;
    static final String RDS = Resources.V3.ROUTE_TYPE_URL;
    static final String CDS = Resources.V3.CLUSTER_TYPE_URL;
    static final String EDS = Resources.V3.ENDPOINT_TYPE_URL;
    static final List<String> TYPES = List.of(LDS, RDS, CDS, EDS);

    /** The audit's records: "node type outcome version". */
    private final List<String> audit = java.util.Collections.synchronizedList(new ArrayList<>());
    private final ProxyConfigCache cache = new ProxyConfigCache(new XdsEvents() {
        @Override
        public void version(String nodeId, String typeUrl, String version, String configVersion, VersionOutcome outcome, String error) {
            audit.add(nodeId + " " + typeUrl + " " + outcome + " " + version);
        }
    });

    /** A mesh state: per type, name -> content variant. */
    private static Map<String, Map<String, Integer>> state(int[][] variants) {
        Map<String, Map<String, Integer>> out = new TreeMap<>();
        for (int t = 0; t < TYPES.size(); t++) {
            Map<String, Integer> byName = new TreeMap<>();
            for (int i = 0; i < variants[t].length; i++) {
                if (variants[t][i] >= 0) {
                    byName.put(prefix(TYPES.get(t)) + i, variants[t][i]);
                }
            }
            out.put(TYPES.get(t), byName);
        }
        return out;
    }

    private static String prefix(String typeUrl) {
        return switch (typeUrl) {
            case LDS -> "listener-";
            case RDS -> "route-";
            case CDS -> "cluster-";
            default -> "endpoints-";
        };
    }

    private static Message resource(String typeUrl, String name, int variant) {
        return switch (typeUrl) {
            case LDS -> Listener.newBuilder().setName(name).setAddress(Address.newBuilder().setSocketAddress(
                    SocketAddress.newBuilder().setAddress("0.0.0.0").setPortValue(15000 + variant))).build();
            case RDS -> RouteConfiguration.newBuilder().setName(name)
                    .addVirtualHosts(VirtualHost.newBuilder().setName("v" + variant).addDomains("*")).build();
            case CDS -> Cluster.newBuilder().setName(name).setConnectTimeout(Duration.newBuilder().setSeconds(1 + variant)).build();
            default -> ClusterLoadAssignment.newBuilder().setClusterName(name).addEndpoints(LocalityLbEndpoints.newBuilder()
                    .addLbEndpoints(LbEndpoint.newBuilder().setEndpoint(io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                            .setAddress(Address.newBuilder().setSocketAddress(SocketAddress.newBuilder()
                                    .setAddress("10.0.0." + (1 + variant)).setPortValue(8080)))))).build();
        };
    }

    private static ProxySnapshot snapshot(Map<String, Map<String, Integer>> state, ResourceInterner interner) {
        Map<String, List<Message>> lists = new HashMap<>();
        state.forEach((type, byName) -> {
            List<Message> list = new ArrayList<>();
            byName.forEach((name, variant) -> list.add(resource(type, name, variant)));
            lists.put(type, list);
        });
        @SuppressWarnings("unchecked")
        ProxyResources r = new ProxyResources((List<Listener>) (List<?>) lists.get(LDS), (List<RouteConfiguration>) (List<?>) lists.get(RDS),
                (List<Cluster>) (List<?>) lists.get(CDS), (List<ClusterLoadAssignment>) (List<?>) lists.get(EDS));
        return ProxySnapshot.of(Dialect.ENVOY, r, interner);
    }

    private void publish(ProxySnapshot snapshot, String... nodes) {
        Map<ProxyKey, ProxySnapshot> all = new HashMap<>();
        for (String node : nodes) {
            all.put(new ProxyKey(node, Dialect.ENVOY), snapshot);
        }
        cache.publish(all, System.nanoTime());
    }

    private static String name(Any any) {
        return Resources.getResourceName(any);
    }

    /** A state-of-the-world client: LDS/CDS by wildcard, replaced whole; RDS/EDS by name, merged. ACKs everything. */
    final class SotwClient {
        final StreamSession session;
        final String nodeId;
        final Map<String, Map<String, Any>> held = new TreeMap<>();
        final Map<String, List<String>> names = new HashMap<>();
        final List<Response> received = new ArrayList<>();

        SotwClient(String nodeId) {
            this.nodeId = nodeId;
            session = new StreamSession(new Principal.NodeToken(nodeId, Instant.MAX));
            assertThat(cache.bind(session, nodeId, Dialect.ENVOY)).isTrue();
            TYPES.forEach(t -> held.put(t, new TreeMap<>()));
        }

        void subscribe(String typeUrl, List<String> resourceNames, String version) {
            names.put(typeUrl, resourceNames);
            request(DiscoveryRequest.newBuilder().setTypeUrl(typeUrl).setVersionInfo(version)
                    .setResponseNonce(version.isEmpty() ? "" : "n").addAllResourceNames(resourceNames).build());
        }

        void nack(String typeUrl, String heldVersion) {
            request(DiscoveryRequest.newBuilder().setTypeUrl(typeUrl).setVersionInfo(heldVersion).setResponseNonce("n")
                    .addAllResourceNames(names.get(typeUrl))
                    .setErrorDetail(com.google.rpc.Status.newBuilder().setCode(3).setMessage("rejected")).build());
        }

        private void request(DiscoveryRequest request) {
            Context.current().withValue(StreamSession.KEY, session).run(() ->
                    cache.createWatch(true, XdsRequest.create(request), Set.of(), this::onResponse, false, false));
        }

        private void onResponse(Response response) {
            received.add(response);
            String type = response.request().getTypeUrl();
            Map<String, Any> mine = held.get(type);
            if (type.equals(LDS) || type.equals(CDS)) {
                mine.clear();
            }
            for (Message m : response.resources()) {
                mine.put(name((Any) m), (Any) m);
            }
            subscribe(type, names.get(type), response.version()); // ACK
        }

        Response last(String typeUrl) {
            return received.reversed().stream().filter(r -> r.request().getTypeUrl().equals(typeUrl)).findFirst().orElse(null);
        }

        void subscribeAll(int perType) {
            subscribe(LDS, List.of(), "");
            subscribe(CDS, List.of(), "");
            subscribe(RDS, namesOf(RDS, perType), "");
            subscribe(EDS, namesOf(EDS, perType), "");
        }
    }

    /**
     * A delta client: LDS/CDS by wildcard, RDS/EDS by name; applies resources and removals; ACKs everything (or
     * NACKs the next response of a type when told to). The server side of its stream is modelled as
     * java-control-plane's AdsDeltaDiscoveryRequestStreamObserver keeps it: a tracked map updated from a response only
     * when it is ACKed, pending names, one response in flight per type; all three start empty on every stream.
     */
    final class DeltaClient {
        final String nodeId;
        StreamSession session;
        final Map<String, Map<String, Any>> held = new TreeMap<>();
        /** What the client holds, by version: what it announces when it reconnects. */
        final Map<String, Map<String, String>> versions = new HashMap<>();
        final Map<String, List<String>> subscribed = new HashMap<>();
        final List<DeltaResponse> received = new ArrayList<>();
        final Set<String> nackNext = new HashSet<>();
        // java-control-plane's per-stream state
        private final Map<String, Map<String, String>> tracked = new HashMap<>();
        private final Map<String, Set<String>> pending = new HashMap<>();
        private final Map<String, DeltaResponse> inFlight = new HashMap<>();

        DeltaClient(String nodeId) {
            this.nodeId = nodeId;
            TYPES.forEach(t -> {
                held.put(t, new TreeMap<>());
                versions.put(t, new TreeMap<>());
            });
            connect();
        }

        private void connect() {
            session = new StreamSession(new Principal.NodeToken(nodeId, Instant.MAX));
            assertThat(cache.bind(session, nodeId, Dialect.ENVOY)).isTrue();
            tracked.clear();
            pending.clear();
            inFlight.clear();
            TYPES.forEach(t -> {
                tracked.put(t, new HashMap<>());
                pending.put(t, new HashSet<>());
            });
        }

        void disconnect() {
            cache.close(session);
        }

        /** A new stream that subscribes as before, announcing every version it holds (Envoy's reconnect). */
        void reconnect() {
            disconnect();
            connect();
            for (String type : TYPES) {
                if (subscribed.containsKey(type)) {
                    request(DeltaDiscoveryRequest.newBuilder().setTypeUrl(type).addAllResourceNamesSubscribe(subscribed.get(type))
                            .putAllInitialResourceVersions(versions.get(type)).build());
                }
            }
        }

        void subscribe(String typeUrl, List<String> resourceNames) {
            subscribed.put(typeUrl, resourceNames);
            request(DeltaDiscoveryRequest.newBuilder().setTypeUrl(typeUrl).addAllResourceNamesSubscribe(resourceNames).build());
        }

        private void request(DeltaDiscoveryRequest request) {
            String type = request.getTypeUrl();
            request.getResourceNamesUnsubscribeList().forEach(name -> {
                tracked.get(type).remove(name);
                pending.get(type).remove(name);
            });
            pending.get(type).addAll(request.getResourceNamesSubscribeList());
            if (!request.getResponseNonce().isEmpty()) {
                DeltaResponse answered = inFlight.remove(type);
                if (!request.hasErrorDetail()) {
                    answered.resources().forEach((name, r) -> {
                        tracked.get(type).put(name, r.version());
                        pending.get(type).remove(name);
                    });
                    answered.removedResources().forEach(tracked.get(type)::remove);
                }
            }
            if (inFlight.containsKey(type)) {
                return; // java-control-plane opens no watch while a response awaits its ACK
            }
            StreamSession stream = session;
            Context.current().withValue(StreamSession.KEY, stream).run(() ->
                    cache.createDeltaWatch(DeltaXdsRequest.create(request), "", Map.copyOf(tracked.get(type)),
                            Set.copyOf(pending.get(type)), type.equals(LDS) || type.equals(CDS),
                            r -> onResponse(stream, r), false));
        }

        private void onResponse(StreamSession stream, DeltaResponse response) {
            if (stream != session) {
                return; // an answer on a stream that is gone
            }
            received.add(response);
            String type = response.request().getTypeUrl();
            inFlight.put(type, response);
            if (nackNext.remove(type)) {
                request(DeltaDiscoveryRequest.newBuilder().setTypeUrl(type).setResponseNonce("n")
                        .setErrorDetail(com.google.rpc.Status.newBuilder().setCode(3).setMessage("rejected")).build());
                return;
            }
            response.resources().forEach((name, r) -> {
                held.get(type).put(name, (Any) r.resource());
                versions.get(type).put(name, r.version());
            });
            for (String name : response.removedResources()) {
                held.get(type).remove(name);
                versions.get(type).remove(name);
            }
            request(DeltaDiscoveryRequest.newBuilder().setTypeUrl(type).setResponseNonce("n").build()); // ACK
        }

        DeltaResponse last(String typeUrl) {
            return received.reversed().stream().filter(r -> r.request().getTypeUrl().equals(typeUrl)).findFirst().orElse(null);
        }

        void subscribeAll(int perType) {
            subscribe(LDS, List.of());
            subscribe(CDS, List.of());
            subscribe(RDS, namesOf(RDS, perType));
            subscribe(EDS, namesOf(EDS, perType));
        }
    }

    private static List<String> namesOf(String typeUrl, int count) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(prefix(typeUrl) + i);
        }
        return out;
    }

    private static Map<String, String> contents(Map<String, Any> held) {
        Map<String, String> out = new TreeMap<>();
        held.forEach((name, any) -> out.put(name, any.getValue().toStringUtf8()));
        return out;
    }

    private static Map<String, String> expected(Map<String, Map<String, Integer>> state, String typeUrl) {
        Map<String, String> out = new TreeMap<>();
        state.get(typeUrl).forEach((name, variant) -> out.put(name,
                ResourceInterner.pack(resource(typeUrl, name, variant)).resource().getValue().toStringUtf8()));
        return out;
    }

    @Test
    void everyStreamIsHandedTheSamePackedResourceAndTheSerializerPassesItThrough() {
        var state = state(new int[][] {{0, 0}, {0}, {0, 0, 0}, {0}});
        publish(snapshot(state, new ResourceInterner()), "shop/a-1", "shop/a-2");
        SotwClient one = new SotwClient("shop/a-1");
        SotwClient two = new SotwClient("shop/a-2");
        DeltaClient three = new DeltaClient("shop/a-1");
        one.subscribe(CDS, List.of(), "");
        two.subscribe(CDS, List.of(), "");
        three.subscribe(CDS, List.of());
        List<? extends Message> a = List.copyOf(one.last(CDS).resources());
        List<? extends Message> b = List.copyOf(two.last(CDS).resources());
        assertThat(a).hasSize(3);
        for (int i = 0; i < a.size(); i++) {
            assertThat(b.get(i)).isSameAs(a.get(i));
            assertThat(three.last(CDS).resources().get(name((Any) a.get(i))).resource()).isSameAs(a.get(i));
            // What java-control-plane puts in each DiscoveryResponse: the same instance, not a re-serialized copy.
            assertThat(new PackedResourceSerializer().serialize(a.get(i), Resources.ApiVersion.V3)).isSameAs(a.get(i));
        }
    }

    @Test
    void sotwSendsChangedRoutesAndEndpointsOnlyAndFullListenersAndClusters() {
        var before = state(new int[][] {{0, 0}, {0, 0, 0}, {0, 0}, {0, 0, 0}});
        ResourceInterner interner = new ResourceInterner();
        publish(snapshot(before, interner), "shop/web-1");
        SotwClient client = new SotwClient("shop/web-1");
        client.subscribeAll(3);
        assertThat(client.last(RDS).resources()).hasSize(3);
        assertThat(client.last(EDS).resources()).hasSize(3);
        int sent = client.received.size();

        // One endpoint set changes, one route changes and one is removed; clusters and listeners stay.
        interner.nextGeneration();
        var after = state(new int[][] {{0, 0}, {1, 0, -1}, {0, 0}, {0, 0, 1}});
        publish(snapshot(after, interner), "shop/web-1");
        List<Response> push = List.copyOf(client.received.subList(sent, client.received.size()));
        assertThat(push).extracting(r -> r.request().getTypeUrl()).containsExactlyInAnyOrder(RDS, EDS);
        assertThat(client.last(EDS).resources()).extracting(m -> name((Any) m)).containsExactly("endpoints-2");
        assertThat(client.last(RDS).resources()).extracting(m -> name((Any) m)).containsExactly("route-0");
        assertThat(client.last(EDS).version()).isEqualTo(snapshot(after, null).type(EDS).version());
        assertThat(contents(client.held.get(EDS))).isEqualTo(expected(after, EDS));
        assertThat(cache.allInSync()).as("the partial versions are ACKed like full ones").isTrue();

        // A cluster changes too: CDS is full state, and EDS is sent whole, since an Envoy re-warms the changed
        // cluster and waits for its endpoints.
        sent = client.received.size();
        interner.nextGeneration();
        var clusters = state(new int[][] {{0, 0}, {1, 0, -1}, {0, 1}, {0, 0, 2}});
        publish(snapshot(clusters, interner), "shop/web-1");
        push = List.copyOf(client.received.subList(sent, client.received.size()));
        assertThat(push).extracting(r -> r.request().getTypeUrl()).containsExactlyInAnyOrder(CDS, EDS);
        assertThat(client.last(CDS).resources()).extracting(m -> name((Any) m)).containsExactly("cluster-0", "cluster-1");
        assertThat(client.last(EDS).resources()).extracting(m -> name((Any) m))
                .containsExactly("endpoints-0", "endpoints-1", "endpoints-2");
        assertThat(contents(client.held.get(CDS))).isEqualTo(expected(clusters, CDS));

        // A new subscription (one more name) is answered with every requested resource, changed or not.
        client.subscribe(EDS, namesOf(EDS, 2), client.last(EDS).version());
        assertThat(client.last(EDS).resources()).extracting(m -> name((Any) m)).containsExactly("endpoints-0", "endpoints-1");
    }

    @Test
    void afterANackTheNextSotwAnswerHoldsEveryRequestedResource() {
        ResourceInterner interner = new ResourceInterner();
        publish(snapshot(state(new int[][] {{}, {0, 0}, {}, {0, 0}}), interner), "shop/web-1");
        SotwClient client = new SotwClient("shop/web-1");
        client.names.put(EDS, namesOf(EDS, 2));
        client.subscribe(EDS, namesOf(EDS, 2), "");
        String good = client.last(EDS).version();
        interner.nextGeneration();
        publish(snapshot(state(new int[][] {{}, {0, 0}, {}, {1, 0}}), interner), "shop/web-1");
        assertThat(client.last(EDS).resources()).hasSize(1);
        client.received.clear();
        client.nack(EDS, good); // rejects the version holding endpoints-0 variant 1: it holds variant 0
        assertThat(client.received).as("the NACKed version is not resent").isEmpty();
        interner.nextGeneration();
        var fixed = state(new int[][] {{}, {0, 0}, {}, {2, 0}});
        publish(snapshot(fixed, interner), "shop/web-1");
        assertThat(client.last(EDS).resources()).extracting(m -> name((Any) m)).containsExactly("endpoints-0", "endpoints-1");
    }

    @Test
    void deltaSendsOnlyChangedAndRemovedResources() {
        ResourceInterner interner = new ResourceInterner();
        publish(snapshot(state(new int[][] {{0, 0, 0}, {0, 0}, {0, 0}, {0, 0}}), interner), "shop/web-1");
        DeltaClient client = new DeltaClient("shop/web-1");
        client.subscribeAll(2);
        assertThat(client.last(LDS).resources()).hasSize(3);
        int sent = client.received.size();
        interner.nextGeneration();
        var after = state(new int[][] {{0, 1, -1}, {0, 0}, {0, 0}, {0, 1}});
        publish(snapshot(after, interner), "shop/web-1");
        List<DeltaResponse> push = client.received.subList(sent, client.received.size());
        assertThat(push).extracting(r -> r.request().getTypeUrl()).containsExactlyInAnyOrder(LDS, EDS);
        assertThat(client.last(LDS).resources()).containsOnlyKeys("listener-1");
        assertThat(client.last(LDS).removedResources()).containsExactly("listener-2");
        assertThat(client.last(EDS).resources()).containsOnlyKeys("endpoints-1");
        assertThat(client.last(EDS).removedResources()).isEmpty();
        assertThat(contents(client.held.get(LDS))).isEqualTo(expected(after, LDS));
    }

    /**
     * A change that touches no resource a delta client subscribes sends it nothing, so no ACK follows; the node must
     * still count as holding the version in force (the fleet benchmark saw delta proxies stay "not in sync" for good
     * after an edit that another edit reverted).
     */
    @Test
    void aDeltaClientThatIsSentNothingStillConverges() {
        ResourceInterner interner = new ResourceInterner();
        publish(snapshot(state(new int[][] {{0}, {0}, {0, 0}, {0, 0}}), interner), "shop/web-1");
        DeltaClient client = new DeltaClient("shop/web-1");
        client.subscribeAll(1); // endpoints-0 by name, not endpoints-1
        assertThat(cache.status()).singleElement().satisfies(s -> assertThat(s.inSync()).isTrue());
        int sent = client.received.size();
        interner.nextGeneration();
        publish(snapshot(state(new int[][] {{0}, {0}, {0, 0}, {0, 1}}), interner), "shop/web-1");
        assertThat(client.received.subList(sent, client.received.size())).as("nothing it subscribes changed").isEmpty();
        assertThat(cache.status()).singleElement().satisfies(s -> assertThat(s.inSync()).isTrue());
    }

    /**
     * A delta proxy that reconnects (the control plane restarted) announcing the versions it holds is sent nothing
     * when it holds them all, and still counts as in sync: status, allInSync and the audit's ACK (the fleet
     * benchmark's reconnect storm sent an all-delta fleet everything again).
     */
    @Test
    void aDeltaClientThatReconnectsHoldingEverythingIsSentNothingAndConverges() {
        ResourceInterner interner = new ResourceInterner();
        var state = state(new int[][] {{0, 0}, {0, 0}, {0, 0}, {0, 0}});
        ProxySnapshot snapshot = snapshot(state, interner);
        publish(snapshot, "shop/web-1");
        DeltaClient client = new DeltaClient("shop/web-1");
        client.subscribeAll(2);
        int sent = client.received.size();
        client.reconnect();
        assertThat(client.received.subList(sent, client.received.size())).as("it holds everything").isEmpty();
        for (String type : TYPES) {
            assertThat(contents(client.held.get(type))).isEqualTo(expected(state, type));
        }
        assertThat(cache.allInSync()).isTrue();
        assertThat(cache.status()).singleElement().satisfies(s -> {
            assertThat(s.inSync()).isTrue();
            TYPES.forEach(t -> assertThat(s.ackedVersions()).containsEntry(t, snapshot.type(t).version()));
        });
        // The new stream's node is ACKed at each version in force, and nothing is recorded as sent again.
        List<String> records = List.copyOf(audit);
        List<String> afterReconnect = records.subList(records.lastIndexOf("shop/web-1 " + EDS + " SENT " + snapshot.type(EDS).version()) + 1,
                records.size());
        assertThat(afterReconnect).containsExactlyInAnyOrderElementsOf(TYPES.stream()
                .map(t -> "shop/web-1 " + t + " ACKED " + snapshot.type(t).version()).toList());
    }

    /**
     * A delta proxy that was away during a change is sent, on reconnecting, only the resources whose version differs
     * from the one it announces, and is told of those it holds that are gone: by wildcard (listeners) and by name
     * (routes, endpoints).
     */
    @Test
    void aDeltaClientThatReconnectsGetsOnlyWhatChangedAndIsToldWhatIsGone() {
        ResourceInterner interner = new ResourceInterner();
        publish(snapshot(state(new int[][] {{0, 0, 0}, {0, 0}, {0, 0}, {0, 0}}), interner), "shop/web-1");
        DeltaClient client = new DeltaClient("shop/web-1");
        client.subscribeAll(2);
        client.disconnect();
        interner.nextGeneration();
        var after = state(new int[][] {{0, 1, -1}, {0, -1}, {0, 0}, {1, 0}});
        publish(snapshot(after, interner), "shop/web-1");
        int sent = client.received.size();
        client.reconnect();
        List<DeltaResponse> push = client.received.subList(sent, client.received.size());
        assertThat(push).extracting(r -> r.request().getTypeUrl()).containsExactlyInAnyOrder(LDS, RDS, EDS);
        assertThat(client.last(LDS).resources()).containsOnlyKeys("listener-1");
        assertThat(client.last(LDS).removedResources()).containsExactly("listener-2");
        assertThat(client.last(RDS).resources()).isEmpty();
        assertThat(client.last(RDS).removedResources()).containsExactly("route-1");
        assertThat(client.last(EDS).resources()).containsOnlyKeys("endpoints-0");
        assertThat(client.last(EDS).removedResources()).isEmpty();
        for (String type : TYPES) {
            assertThat(contents(client.held.get(type))).as(type).isEqualTo(expected(after, type));
        }
        assertThat(cache.allInSync()).isTrue();

        // A route it is told is gone but still subscribes comes back: it is sent again.
        interner.nextGeneration();
        var back = state(new int[][] {{0, 1, -1}, {0, 0}, {0, 0}, {1, 0}});
        publish(snapshot(back, interner), "shop/web-1");
        assertThat(client.last(RDS).resources()).containsOnlyKeys("route-1");
        assertThat(contents(client.held.get(RDS))).isEqualTo(expected(back, RDS));
    }

    /**
     * A resource the proxy holds only by its announcement (it was never sent on this stream) that disappears in a
     * later publish is still reported removed; otherwise the proxy would keep a stale resource for good.
     */
    @Test
    void aResourceHeldSinceTheStreamBeganIsReportedRemovedWhenItGoesLater() {
        ResourceInterner interner = new ResourceInterner();
        publish(snapshot(state(new int[][] {{0, 0}, {0, 0}, {0, 0}, {0, 0}}), interner), "shop/web-1");
        DeltaClient client = new DeltaClient("shop/web-1");
        client.subscribeAll(2);
        int sent = client.received.size();
        client.reconnect();
        assertThat(client.received).hasSize(sent);
        interner.nextGeneration();
        var after = state(new int[][] {{-1, 0}, {0, -1}, {0, 1}, {0, 0}});
        publish(snapshot(after, interner), "shop/web-1");
        assertThat(client.last(LDS).removedResources()).containsExactly("listener-0");
        assertThat(client.last(LDS).resources()).isEmpty();
        assertThat(client.last(RDS).removedResources()).containsExactly("route-1");
        assertThat(client.last(CDS).resources()).containsOnlyKeys("cluster-1");
        for (String type : TYPES) {
            assertThat(contents(client.held.get(type))).as(type).isEqualTo(expected(after, type));
        }
        assertThat(cache.allInSync()).isTrue();
    }

    /**
     * A NACKed response does not make the server think the proxy holds what it rejected: the proxy keeps the version
     * it announced, so that resource is still reported removed when it goes, and sent when it changes again.
     */
    @Test
    void aNackedResponseLeavesTheAnnouncedVersionsInForce() {
        ResourceInterner interner = new ResourceInterner();
        var first = state(new int[][] {{0, 0}, {}, {0}, {}});
        publish(snapshot(first, interner), "shop/web-1");
        DeltaClient client = new DeltaClient("shop/web-1");
        client.subscribe(LDS, List.of());
        client.subscribe(CDS, List.of());
        client.disconnect();
        interner.nextGeneration();
        publish(snapshot(state(new int[][] {{1, 1}, {}, {0}, {}}), interner), "shop/web-1");
        client.nackNext.add(LDS);
        int sent = client.received.size();
        client.reconnect();
        assertThat(client.received.subList(sent, client.received.size())).singleElement()
                .satisfies(r -> assertThat(r.resources()).containsOnlyKeys("listener-0", "listener-1"));
        assertThat(contents(client.held.get(LDS))).as("rejected").isEqualTo(expected(first, LDS));
        assertThat(cache.allInSync()).isFalse();

        // listener-0 goes and listener-1 changes again: the proxy, still holding variant 0 of both, hears of both.
        interner.nextGeneration();
        var fixed = state(new int[][] {{-1, 2}, {}, {0}, {}});
        publish(snapshot(fixed, interner), "shop/web-1");
        assertThat(client.last(LDS).removedResources()).containsExactly("listener-0");
        assertThat(client.last(LDS).resources()).containsOnlyKeys("listener-1");
        assertThat(contents(client.held.get(LDS))).isEqualTo(expected(fixed, LDS));
        assertThat(cache.allInSync()).isTrue();
    }

    /**
     * Over random edit sequences a delta client and a state-of-the-world client that apply every response end with
     * the same resources, and with exactly the mesh's: listeners and clusters as published, every existing route and
     * endpoint set as published (delta also drops removed ones; SotW cannot be told of those, by the protocol).
     * The delta client also reconnects at random points, announcing what it holds: sometimes after missing publishes
     * while away, sometimes right after one.
     */
    @Test
    void deltaAndSotwClientsEndWithTheSameResourcesOverRandomEdits() {
        Random random = new Random(20261205);
        for (int round = 0; round < 20; round++) {
            runRandomEdits(random, "shop/r" + round);
        }
    }

    private void runRandomEdits(Random random, String node) {
        int per = 5;
        int[][] variants = new int[4][per];
        for (int[] v : variants) {
            for (int i = 0; i < per; i++) {
                v[i] = random.nextInt(4) - 1;
            }
        }
        ResourceInterner interner = new ResourceInterner();
        var current = state(variants);
        publish(snapshot(current, interner), node + "-s", node + "-d");
        SotwClient sotw = new SotwClient(node + "-s");
        DeltaClient delta = new DeltaClient(node + "-d");
        sotw.subscribeAll(per);
        delta.subscribeAll(per);
        for (int step = 0; step < 30; step++) {
            int edits = 1 + random.nextInt(3);
            for (int e = 0; e < edits; e++) {
                variants[random.nextInt(4)][random.nextInt(per)] = random.nextInt(4) - 1; // -1: removed
            }
            current = state(variants);
            interner.nextGeneration();
            int reconnect = random.nextInt(10); // 0-1: away during this publish, 2: reconnects after it
            if (reconnect < 2) {
                delta.disconnect();
            }
            publish(snapshot(current, interner), node + "-s", node + "-d");
            if (reconnect <= 2) {
                int sent = delta.received.size();
                delta.reconnect();
                if (reconnect == 2) {
                    // Holding everything, it is sent no resource and told of no removal it did not know of; only
                    // names it subscribes that do not exist are said not to exist again, as to any new subscriber.
                    assertThat(delta.received.subList(sent, delta.received.size())).as("reconnects holding everything at step %s", step)
                            .allSatisfy(r -> {
                                assertThat(r.resources()).isEmpty();
                                String type = r.request().getTypeUrl();
                                assertThat(r.removedResources()).noneMatch(delta.held.get(type)::containsKey)
                                        .allMatch(delta.subscribed.get(type)::contains);
                            });
                }
            }
            for (String type : TYPES) {
                Map<String, String> want = expected(current, type);
                assertThat(contents(delta.held.get(type))).as("delta %s at step %s", type, step).isEqualTo(want);
                Map<String, String> sotwHeld = contents(sotw.held.get(type));
                if (type.equals(LDS) || type.equals(CDS)) {
                    assertThat(sotwHeld).as("sotw %s at step %s", type, step).isEqualTo(want);
                } else {
                    Map<String, String> existing = new TreeMap<>(sotwHeld);
                    existing.keySet().retainAll(want.keySet());
                    assertThat(existing).as("sotw %s at step %s", type, step).isEqualTo(want);
                }
            }
            assertThat(cache.allInSync()).as("in sync at step %s", step).isTrue();
        }
    }
}
