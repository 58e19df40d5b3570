package dev.septa.bench;

import dev.septa.sidecar.grpc.BytesMethods;
import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.rpc.Status;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One simulated Envoy on its own TLS connection (its own {@link ManagedChannel}), speaking ADS as Envoy does: CDS
 * and LDS by wildcard, EDS by name once a Cluster of type EDS names it (Envoy warms clusters), RDS by name once a
 * Listener's HTTP connection manager names it, SDS for {@code default} and {@code ROOTCA}; every response ACKed,
 * except that a proxy chosen to NACK rejects its first RDS response once (Envoy keeps its last good configuration
 * and waits for a different version). {@link Kind#SOTW} uses {@code StreamAggregatedResources}, {@link Kind#DELTA}
 * {@code DeltaAggregatedResources} (on a reconnect it sends the versions it holds, as Envoy does). A failed stream is
 * reopened after a jittered 0–500 ms (Envoy's ADS retry base), waiting for the channel to reconnect.
 */
final class FleetProxy {
    enum Kind { SOTW, DELTA }

    static final String LDS = Resources.V3.LISTENER_TYPE_URL;
    static final String RDS = Resources.V3.ROUTE_TYPE_URL;
    static final String CDS = Resources.V3.CLUSTER_TYPE_URL;
    static final String EDS = Resources.V3.ENDPOINT_TYPE_URL;
    static final String SDS = Resources.V3.SECRET_TYPE_URL;
    static final List<String> SECRETS = List.of("default", "ROOTCA");

    static final MethodDescriptor<DiscoveryRequest, byte[]> SOTW = MethodDescriptor.<DiscoveryRequest, byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
            .setFullMethodName(AggregatedDiscoveryServiceGrpc.getStreamAggregatedResourcesMethod().getFullMethodName())
            .setRequestMarshaller(ProtoUtils.marshaller(DiscoveryRequest.getDefaultInstance()))
            .setResponseMarshaller(BytesMethods.MARSHALLER).build();
    static final MethodDescriptor<DeltaDiscoveryRequest, byte[]> DELTA = MethodDescriptor.<DeltaDiscoveryRequest, byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
            .setFullMethodName(AggregatedDiscoveryServiceGrpc.getDeltaAggregatedResourcesMethod().getFullMethodName())
            .setRequestMarshaller(ProtoUtils.marshaller(DeltaDiscoveryRequest.getDefaultInstance()))
            .setResponseMarshaller(BytesMethods.MARSHALLER).build();

    /** Where a proxy reports each response it got after the mark (the floor's capture). */
    interface Recorder {
        void received(FleetProxy proxy, FleetWire.Response response);
    }

    /** What the proxy holds of one type. */
    private static final class TypeState {
        String version = "";
        String nonce = "";
        /** Subscribed names (RDS, EDS, SDS); empty for the wildcard types. */
        Set<String> names = new TreeSet<>();
        /** A response arrived for the current subscription on the current stream. */
        boolean received;
        /** Delta: resource name to version; and, for LDS/CDS, resource name to the names it makes Envoy subscribe. */
        final Map<String, String> versions = new HashMap<>();
        final Map<String, Set<String>> derived = new HashMap<>();
    }

    final int index;
    final String node;
    final Kind kind;
    private final ManagedChannel managed;
    private final Channel channel;
    private final ScheduledExecutorService retries;
    private final Recorder recorder;
    private boolean nackOnce;
    private final Map<String, TypeState> types = new LinkedHashMap<>();
    private StreamObserver<Object> requests;
    private int generation;
    private volatile boolean stopped;
    private volatile long since = Long.MAX_VALUE;
    private volatile long lastAckAfter;
    private volatile long bytesAfter;
    private volatile int responsesAfter;
    private volatile long fullAt;
    private volatile String standingNack;

    FleetProxy(int index, ManagedChannel channel, String node, String token, Kind kind, boolean nackOnce,
               ScheduledExecutorService retries, Recorder recorder) {
        Metadata md = new Metadata();
        md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        this.index = index;
        this.managed = channel;
        this.channel = ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(md));
        this.node = node;
        this.kind = kind;
        this.nackOnce = nackOnce;
        this.retries = retries;
        this.recorder = recorder;
        for (String type : List.of(CDS, EDS, LDS, RDS, SDS)) {
            types.put(type, new TypeState());
        }
        types.get(SDS).names.addAll(SECRETS);
    }

    @SuppressWarnings("unchecked")
    synchronized void start() {
        if (stopped) {
            return;
        }
        int gen = ++generation;
        fullAt = 0;
        types.values().forEach(t -> t.received = false);
        StreamObserver<byte[]> responses = new StreamObserver<>() {
            @Override
            public void onNext(byte[] bytes) {
                onResponse(gen, bytes);
            }

            @Override
            public void onError(Throwable t) {
                if (!stopped) {
                    retries.schedule(() -> restart(gen), ThreadLocalRandom.current().nextLong(500), TimeUnit.MILLISECONDS);
                }
            }

            @Override
            public void onCompleted() {
                onError(null);
            }
        };
        CallOptions options = CallOptions.DEFAULT.withWaitForReady();
        if (kind == Kind.SOTW) {
            ClientCall<DiscoveryRequest, byte[]> call = channel.newCall(SOTW, options);
            requests = (StreamObserver<Object>) (StreamObserver<?>) ClientCalls.asyncBidiStreamingCall(call, responses);
        } else {
            ClientCall<DeltaDiscoveryRequest, byte[]> call = channel.newCall(DELTA, options);
            requests = (StreamObserver<Object>) (StreamObserver<?>) ClientCalls.asyncBidiStreamingCall(call, responses);
        }
        Node n = Node.newBuilder().setId(node).setUserAgentName("envoy")
                .setMetadata(Struct.newBuilder().putFields("SEPTA_DIALECT", Value.newBuilder().setStringValue("envoy").build())).build();
        boolean first = true;
        for (String type : List.of(CDS, LDS, SDS, EDS, RDS)) {
            TypeState t = types.get(type);
            boolean wildcard = type.equals(CDS) || type.equals(LDS);
            if (!wildcard && t.names.isEmpty()) {
                continue; // EDS and RDS are asked for once a cluster or listener names something
            }
            if (kind == Kind.SOTW) {
                DiscoveryRequest.Builder r = DiscoveryRequest.newBuilder().setTypeUrl(type).setVersionInfo(t.version)
                        .addAllResourceNames(t.names);
                if (first) {
                    r.setNode(n);
                }
                requests.onNext(r.build());
            } else {
                DeltaDiscoveryRequest.Builder r = DeltaDiscoveryRequest.newBuilder().setTypeUrl(type)
                        .putAllInitialResourceVersions(t.versions);
                if (wildcard) {
                    r.addResourceNamesSubscribe("*");
                } else {
                    r.addAllResourceNamesSubscribe(t.names);
                }
                if (first) {
                    r.setNode(n);
                }
                requests.onNext(r.build());
            }
            first = false;
        }
    }

    private void restart(int gen) {
        synchronized (this) {
            if (gen != generation) {
                return;
            }
        }
        start();
    }

    private synchronized void onResponse(int gen, byte[] bytes) {
        if (gen != generation || stopped) {
            return;
        }
        FleetWire.Response r = FleetWire.parse(bytes, kind == Kind.DELTA);
        TypeState t = types.get(r.typeUrl());
        if (t == null) {
            return;
        }
        boolean nack = nackOnce && r.typeUrl().equals(RDS);
        long now = System.nanoTime();
        if (now > since) {
            bytesAfter += bytes.length;
            responsesAfter++;
            if (recorder != null) {
                recorder.received(this, r);
            }
        }
        t.nonce = r.nonce();
        t.received = true;
        if (kind == Kind.SOTW) {
            sotw(r, t, nack);
        } else {
            delta(r, t, nack);
        }
        if (nack) {
            nackOnce = false;
            standingNack = r.typeUrl();
        } else if (r.typeUrl().equals(standingNack)) {
            standingNack = null;
        }
        now = System.nanoTime();
        if (now > since) {
            lastAckAfter = now;
        }
        if (fullAt == 0 && full()) {
            fullAt = now;
        }
    }

    private void sotw(FleetWire.Response r, TypeState t, boolean nack) {
        String type = r.typeUrl();
        if (!nack && (type.equals(LDS) || type.equals(CDS))) {
            Set<String> next = new TreeSet<>();
            for (ByteString any : r.resources()) {
                ByteString value = FleetWire.anyValue(any);
                if (type.equals(LDS)) {
                    FleetWire.routeNames(value, next);
                } else {
                    String eds = FleetWire.edsName(value);
                    if (eds != null) {
                        next.add(eds);
                    }
                }
            }
            subscribeSotw(type.equals(LDS) ? RDS : EDS, next);
        }
        DiscoveryRequest.Builder ack = DiscoveryRequest.newBuilder().setTypeUrl(type).setResponseNonce(r.nonce())
                .addAllResourceNames(t.names);
        if (nack) {
            ack.setVersionInfo(t.version).setErrorDetail(Status.newBuilder().setCode(3).setMessage("simulated rejection (fleet benchmark)"));
        } else {
            t.version = r.version();
            ack.setVersionInfo(t.version);
        }
        requests.onNext(ack.build());
    }

    /** Envoy updates a named subscription when the names change; it never sends an empty (wildcard) one for these. */
    private void subscribeSotw(String type, Set<String> next) {
        TypeState t = types.get(type);
        if (next.isEmpty() || next.equals(t.names)) {
            return;
        }
        t.names = next;
        t.received = false;
        requests.onNext(DiscoveryRequest.newBuilder().setTypeUrl(type).setVersionInfo(t.version).setResponseNonce(t.nonce)
                .addAllResourceNames(next).build());
    }

    private void delta(FleetWire.Response r, TypeState t, boolean nack) {
        String type = r.typeUrl();
        if (!nack) {
            boolean derives = type.equals(LDS) || type.equals(CDS);
            for (ByteString resource : r.resources()) {
                FleetWire.Named named = FleetWire.deltaResource(resource);
                t.versions.put(named.name(), named.version());
                if (derives) {
                    Set<String> names = new HashSet<>();
                    if (type.equals(LDS)) {
                        FleetWire.routeNames(named.value(), names);
                    } else {
                        String eds = FleetWire.edsName(named.value());
                        if (eds != null) {
                            names.add(eds);
                        }
                    }
                    t.derived.put(named.name(), names);
                }
            }
            for (String removed : r.removed()) {
                t.versions.remove(removed);
                t.derived.remove(removed);
            }
            if (derives) {
                Set<String> next = new TreeSet<>();
                t.derived.values().forEach(next::addAll);
                subscribeDelta(type.equals(LDS) ? RDS : EDS, next);
            }
        }
        DeltaDiscoveryRequest.Builder ack = DeltaDiscoveryRequest.newBuilder().setTypeUrl(type).setResponseNonce(r.nonce());
        if (nack) {
            ack.setErrorDetail(Status.newBuilder().setCode(3).setMessage("simulated rejection (fleet benchmark)"));
        }
        requests.onNext(ack.build());
    }

    private void subscribeDelta(String type, Set<String> next) {
        TypeState t = types.get(type);
        Set<String> added = new TreeSet<>(next);
        added.removeAll(t.names);
        Set<String> gone = new TreeSet<>(t.names);
        gone.removeAll(next);
        if (added.isEmpty() && gone.isEmpty()) {
            return;
        }
        gone.forEach(t.versions::remove);
        t.names = next;
        if (!added.isEmpty()) {
            t.received = false;
        }
        requests.onNext(DeltaDiscoveryRequest.newBuilder().setTypeUrl(type).addAllResourceNamesSubscribe(added)
                .addAllResourceNamesUnsubscribe(gone).build());
    }

    /** Has listeners, clusters, secrets and whatever routes and endpoints those name, on the current stream. */
    private boolean full() {
        for (Map.Entry<String, TypeState> e : types.entrySet()) {
            TypeState t = e.getValue();
            boolean needed = e.getKey().equals(CDS) || e.getKey().equals(LDS) || !t.names.isEmpty();
            if (needed && !t.received) {
                return false;
            }
        }
        return true;
    }

    boolean isFull() {
        return fullAt != 0;
    }

    long fullAt() {
        return fullAt;
    }

    /** From now on, record the last ACK, the bytes and the responses after {@code t0}. */
    void since(long t0) {
        lastAckAfter = 0;
        bytesAfter = 0;
        responsesAfter = 0;
        since = t0;
    }

    long lastAckAfter() {
        return lastAckAfter;
    }

    long bytesAfter() {
        return bytesAfter;
    }

    int responsesAfter() {
        return responsesAfter;
    }

    /** The type whose last response this proxy NACKed and has not replaced since, or null. */
    String standingNack() {
        return standingNack;
    }

    void stop() {
        stopped = true;
        synchronized (this) {
            if (requests != null) {
                try {
                    requests.onCompleted();
                } catch (RuntimeException ignored) {
                    // already failed
                }
            }
        }
        managed.shutdownNow();
    }
}
