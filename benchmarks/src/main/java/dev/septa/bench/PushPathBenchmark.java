package dev.septa.bench;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.septa.ca.RenewalSchedule;
import dev.septa.ca.RetryBackoff;
import dev.septa.controlplane.certs.SecretIssuer;
import dev.septa.controlplane.certs.WorkloadCertificates;
import dev.septa.controlplane.xds.SecretSink;
import dev.septa.controlplane.xds.TypeResources;
import dev.septa.identity.KeyedCertificate;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Drainable;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The push path's fixed costs at fleet scale, without a fleet:
 * <ul>
 *   <li>{@code renewalTick}: one 200 ms renewal tick of the certificate issuer with {@code nodes} connected workloads
 *   inside their renewal window (TTL 1 h: ~3 certificates fall due per tick). The CA is a fake that returns at once,
 *   so what is measured is the loop's own work: looking up what is due, then issuing and pushing it.</li>
 *   <li>{@code meshChange}: what the issuer does after every mesh change with the same fleet.</li>
 *   <li>{@code marshalSotwResponse} against {@code copyPreEncodedResponse}: what gRPC does per stream with a
 *   state-of-the-world response of {@code resources} already packed clusters (java-control-plane builds a
 *   DiscoveryResponse of the shared packed Any instances, and gRPC's marshaller writes it into the stream's buffer),
 *   against copying one pre-encoded byte array of the same response: the gain that serializing each distinct
 *   response once, instead of framing the shared resources per stream, could bring.</li>
 * </ul>
 * <pre>
 * ./bench PushPath -f 1 -wi 3 -i 5 -w 1s -r 1s
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class PushPathBenchmark {

    /** A clock the benchmark moves by hand. */
    static final class MovingClock extends Clock {
        volatile Instant now;

        MovingClock(Instant now) {
            this.now = now;
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }

    /** A CA that answers at once, so the loop around it is what counts. */
    static final class InstantCertificates implements WorkloadCertificates {
        final Clock clock;
        final AtomicLong serial = new AtomicLong();

        InstantCertificates(Clock clock) {
            this.clock = clock;
        }

        @Override
        public KeyedCertificate issueWorkload(String spiffeId, Duration ttl) {
            Instant now = clock.instant();
            return new KeyedCertificate(spiffeId, "chain-" + serial.incrementAndGet(), "key", now, now.plus(ttl), "signer");
        }

        @Override
        public KeyedCertificate issueServing(String spiffeId, List<String> dnsNames, List<String> ipAddresses) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String trustBundlePem() {
            return "bundle";
        }
    }

    /** The xDS cache as the issuer sees it: who is connected, and where secrets go. */
    static final class ConnectedSink implements SecretSink {
        final Set<String> connected = ConcurrentHashMap.newKeySet();
        final AtomicLong pushes = new AtomicLong();

        @Override
        public Set<String> connectedNodes() {
            return Set.copyOf(connected);
        }

        public boolean connected(String nodeId) {
            return connected.contains(nodeId);
        }

        @Override
        public void publishSecrets(String nodeId, TypeResources secrets, Instant certificateExpiry) {
            pushes.incrementAndGet();
        }
    }

    @State(Scope.Benchmark)
    public static class Fleet {
        @Param({"10000"})
        public int nodes;

        static final Instant T0 = Instant.parse("2026-12-05T12:00:00Z");
        MovingClock clock;
        ConnectedSink sink;
        SecretIssuer issuer;

        /** A fleet issued at T0, then the clock at the start of its renewal window (24 min for a 1 h TTL). */
        @Setup(Level.Iteration)
        public void connect() throws InterruptedException {
            clock = new MovingClock(T0);
            sink = new ConnectedSink();
            SplittableRandom random = new SplittableRandom(42);
            SecretIssuer.Identities identities = new SecretIssuer.Identities() {
                @Override
                public Optional<String> spiffeId(String nodeId) {
                    return Optional.of("spiffe://cluster.local/ns/shop/sa/" + nodeId.substring(5));
                }

                @Override
                public Duration certificateTtl() {
                    return Duration.ofHours(1);
                }
            };
            // The issuer's own tick is parked (a year): the benchmark drives each tick.
            issuer = new SecretIssuer(new InstantCertificates(clock), identities, sink, clock, SecretIssuer.Listener.NONE,
                    new SecretIssuer.Options(RenewalSchedule.DEFAULT, RetryBackoff.DEFAULT, Duration.ofDays(365), null,
                            random::nextDouble));
            for (int i = 0; i < nodes; i++) {
                String node = "shop/w-" + i;
                sink.connected.add(node);
                issuer.requestSecrets(node);
            }
            issuer.renewDueNow();
            clock.now = T0.plus(Duration.ofMinutes(24));
        }

        @TearDown(Level.Iteration)
        public void close() {
            issuer.close();
        }
    }

    @Benchmark
    public long renewalTick(Fleet fleet) throws InterruptedException {
        fleet.clock.now = fleet.clock.now.plusMillis(200);
        fleet.issuer.renewDueNow();
        return fleet.sink.pushes.get();
    }

    @Benchmark
    public long meshChange(Fleet fleet) throws InterruptedException {
        fleet.issuer.meshChanged();
        fleet.issuer.renewDueNow(); // runs after the mesh change on the issuing thread; nothing new is due
        return fleet.sink.pushes.get();
    }

    @State(Scope.Thread)
    public static class Response {
        @Param({"1000"})
        public int resources;

        static final MethodDescriptor.Marshaller<DiscoveryResponse> MARSHALLER =
                ProtoUtils.marshaller(DiscoveryResponse.getDefaultInstance());
        List<Any> packed;
        byte[] preEncoded;
        final ByteArrayOutputStream sink = new ByteArrayOutputStream(1 << 20);
        long nonce;

        @Setup
        public void pack() {
            List<Message> clusters = new ArrayList<>();
            List<Message> endpoints = new ArrayList<>();
            for (int i = 0; i < resources; i++) {
                clusters.add(cluster("outbound|8080||app-" + i + ".shop.svc.cluster.local"));
                endpoints.add(endpoints("outbound|8080||app-" + i + ".shop.svc.cluster.local", i));
            }
            packed = new ArrayList<>();
            TypeResources.of(clusters).byName().values().forEach(r -> packed.add((Any) r.resource()));
            preEncoded = response(packed, 0).toByteArray();
            List<Any> cla = new ArrayList<>();
            TypeResources.of(endpoints).byName().values().forEach(r -> cla.add((Any) r.resource()));
            System.out.printf("%n%d clusters: SotW CDS response %d bytes; SotW EDS response of every endpoint set %d bytes,"
                            + " of the one that changed %d bytes%n", resources, preEncoded.length,
                    response(cla, 0).getSerializedSize(), response(cla.subList(0, 1), 0).getSerializedSize());
        }

        static DiscoveryResponse response(List<Any> resources, long nonce) {
            return DiscoveryResponse.newBuilder().setVersionInfo("0123456789abcdef0123456789abcdef")
                    .addAllResources(resources).setTypeUrl("type.googleapis.com/envoy.config.cluster.v3.Cluster")
                    .setNonce(Long.toString(nonce)).build();
        }

        static Cluster cluster(String name) {
            UpstreamTlsContext tls = UpstreamTlsContext.newBuilder().setSni(name).setCommonTlsContext(CommonTlsContext.newBuilder()
                    .addTlsCertificateSdsSecretConfigs(SdsSecretConfig.newBuilder().setName("default")
                            .setSdsConfig(ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance())))
                    .setValidationContextSdsSecretConfig(SdsSecretConfig.newBuilder().setName("ROOTCA")
                            .setSdsConfig(ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance()))))
                    .build();
            return Cluster.newBuilder().setName(name).setType(Cluster.DiscoveryType.EDS)
                    .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setServiceName(name)
                            .setEdsConfig(ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance())))
                    .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(1))
                    .setTransportSocket(TransportSocket.newBuilder().setName("envoy.transport_sockets.tls").setTypedConfig(Any.pack(tls)))
                    .build();
        }

        static ClusterLoadAssignment endpoints(String name, int i) {
            LocalityLbEndpoints.Builder locality = LocalityLbEndpoints.newBuilder()
                    .setLoadBalancingWeight(com.google.protobuf.UInt32Value.of(1));
            for (int replica = 0; replica < 10; replica++) {
                locality.addLbEndpoints(LbEndpoint.newBuilder().setEndpoint(Endpoint.newBuilder().setAddress(Address.newBuilder()
                        .setSocketAddress(SocketAddress.newBuilder().setAddress("10." + (i / 250) + "." + (i % 250) + "." + replica)
                                .setPortValue(8080)))));
            }
            return ClusterLoadAssignment.newBuilder().setClusterName(name).addEndpoints(locality).build();
        }
    }

    /** Per stream today: a DiscoveryResponse of the shared packed resources, written by gRPC's proto marshaller. */
    @Benchmark
    public int marshalSotwResponse(Response r) throws IOException {
        r.sink.reset();
        DiscoveryResponse response = Response.response(r.packed, ++r.nonce);
        ((Drainable) Response.MARSHALLER.stream(response)).drainTo(r.sink);
        return r.sink.size();
    }

    /** The floor of any fan-out: copying the response's bytes, encoded once, into the stream's buffer. */
    @Benchmark
    public int copyPreEncodedResponse(Response r) {
        r.sink.reset();
        r.sink.write(r.preEncoded, 0, r.preEncoded.length);
        return r.sink.size();
    }
}
