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
import java.util.Set;
import java.util.TreeMap;

/**
 * A mesh of numbered resources per xDS type, published to a {@link ProxyConfigCache}, and clients that apply its
 * responses as the xDS protocol says (state of the world and delta), for the tests of what goes out on a push.
 */
abstract class PushTestFixture {
    static final String LDS = Resources.V3.LISTENER_TYPE_URL;
    static final String RDS = Resources.V3.ROUTE_TYPE_URL;
    static final String CDS = Resources.V3.CLUSTER_TYPE_URL;
    static final String EDS = Resources.V3.ENDPOINT_TYPE_URL;
    static final List<String> TYPES = List.of(LDS, RDS, CDS, EDS);

    /** The audit's records: "node type outcome version". */
    final List<String> audit = java.util.Collections.synchronizedList(new ArrayList<>());
    final ProxyConfigCache cache = new ProxyConfigCache(new XdsEvents() {
        @Override
        public void version(String nodeId, String typeUrl, String version, String configVersion, VersionOutcome outcome, String error) {
            audit.add(nodeId + " " + typeUrl + " " + outcome + " " + version);
        }
    });

    /** A mesh state: per type, name -> content variant. */
    static Map<String, Map<String, Integer>> state(int[][] variants) {
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

    static String prefix(String typeUrl) {
        return switch (typeUrl) {
            case LDS -> "listener-";
            case RDS -> "route-";
            case CDS -> "cluster-";
            default -> "endpoints-";
        };
    }

    static Message resource(String typeUrl, String name, int variant) {
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

    static ProxySnapshot snapshot(Map<String, Map<String, Integer>> state, ResourceInterner interner) {
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

    void publish(ProxySnapshot snapshot, String... nodes) {
        Map<ProxyKey, ProxySnapshot> all = new HashMap<>();
        for (String node : nodes) {
            all.put(new ProxyKey(node, Dialect.ENVOY), snapshot);
        }
        cache.publish(all, System.nanoTime());
    }

    static String name(Any any) {
        return Resources.getResourceName(any);
    }

    /** A state-of-the-world client: LDS/CDS by wildcard, replaced whole; RDS/EDS by name, merged. ACKs everything. */
    final class SotwClient {
        final StreamSession session;
        final String nodeId;
        final Map<String, Map<String, Any>> held = new TreeMap<>();
        final Map<String, List<String>> names = new HashMap<>();
        final List<Response> received = new ArrayList<>();
        /** Types whose next response is NACKed (keeping what the client held) instead of ACKed. */
        final Set<String> nackNext = new HashSet<>();
        private final Map<String, String> ackedVersions = new HashMap<>();

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
            if (nackNext.remove(type)) {
                nack(type, ackedVersions.getOrDefault(type, ""));
                return;
            }
            ackedVersions.put(type, response.version());
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

    static List<String> namesOf(String typeUrl, int count) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(prefix(typeUrl) + i);
        }
        return out;
    }

    static Map<String, String> contents(Map<String, Any> held) {
        Map<String, String> out = new TreeMap<>();
        held.forEach((name, any) -> out.put(name, any.getValue().toStringUtf8()));
        return out;
    }

    static Map<String, String> expected(Map<String, Map<String, Integer>> state, String typeUrl) {
        Map<String, String> out = new TreeMap<>();
        state.get(typeUrl).forEach((name, variant) -> out.put(name,
                ResourceInterner.pack(resource(typeUrl, name, variant)).resource().getValue().toStringUtf8()));
        return out;
    }
}
