package dev.septa.bench;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.septa.controlplane.ControlPlane;
import dev.septa.controlplane.ControlPlaneOptions;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Fleet benchmark (not JMH: one measurement is a whole fleet): starts the control plane in-process on a generated
 * mesh of N workloads (N/10 apps of 10 replicas, a chain of Allow intents), connects N simulated Envoy nodes over
 * ADS (TLS, node tokens; streams multiplexed 100 per channel so the client side stays small), and measures for one
 * intent change the time from the file write until each affected client ACKed (p50/p99/max), and the heap per
 * connected client. Run: {@code java -cp benchmarks/target/benchmarks.jar dev.septa.bench.FleetBenchmark 100 1000}.
 *
 * <p>The simulated clients run in a second JVM ({@link FleetClients}, started here with the same class path), so
 * that their heap and garbage collection are not counted as the server's; {@code -Dfleet.clients=inprocess} keeps
 * them in this JVM (the earlier setup), {@code -Dfleet.clientXmx=4g} sizes the client JVM. Both JVMs read the same
 * monotonic clock ({@code System.nanoTime} is {@code CLOCK_MONOTONIC} on Linux), so ACK times compare directly.
 */
public final class FleetBenchmark {
    static final List<String> TYPES = List.of(Resources.V3.LISTENER_TYPE_URL, Resources.V3.ROUTE_TYPE_URL,
            Resources.V3.CLUSTER_TYPE_URL, Resources.V3.ENDPOINT_TYPE_URL);
    static final int STREAMS_PER_CHANNEL = 100;

    public static void main(String[] args) throws Exception {
        int[] sizes = args.length == 0 ? new int[] {100, 1000} : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
        List<String> rows = new ArrayList<>();
        for (int n : sizes) {
            rows.add(run(n));
        }
        System.out.println();
        System.out.println("| clients | change | affected | applied after | p50 | p99 | max | heap/client | distinct snapshots |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        rows.forEach(System.out::println);
        System.exit(0);
    }

    static String run(int n) throws Exception {
        Path dir = Files.createTempDirectory("septa-fleet-" + n);
        int apps = Math.max(2, n / 10);
        Path intents = Files.createDirectories(dir.resolve("intents"));
        Files.writeString(intents.resolve("mesh.yaml"), meshYaml("Deny"));
        Files.writeString(intents.resolve("segments.yaml"), segmentsYaml(apps));
        Files.writeString(intents.resolve("intents.yaml"), chainYaml(apps));
        Files.writeString(dir.resolve("inventory.yaml"), inventoryYaml(n, apps));
        ControlPlaneOptions options = ControlPlaneOptions.builder().intentsDir(intents).inventoryFile(dir.resolve("inventory.yaml"))
                .stateDir(dir.resolve("state")).xdsHost("127.0.0.1").xdsPort(0).httpPort(0).build();
        StringBuilder rows = new StringBuilder();
        try (ControlPlane cp = ControlPlane.start(options)) {
            String bundle = Files.readString(dir.resolve("state/ca/trust-bundle.pem"));
            long heapBefore = usedHeap();
            FleetClients.Fleet fleet = "inprocess".equals(System.getProperty("fleet.clients"))
                    ? FleetClients.InProcessFleet.start(cp, bundle, n, apps) : FleetClients.ForkedFleet.start(cp, dir, bundle, n, apps);
            long connectStart = System.nanoTime();
            fleet.awaitSynced();
            await(Duration.ofMinutes(10), () -> cp.core().cache().allInSync());
            Duration initial = Duration.ofNanos(System.nanoTime() - connectStart);
            long heapAfter = usedHeap();
            int distinct = cp.core().status().distinctSnapshots();
            System.out.printf("n=%d: %d clients synced in %d ms (%s); heap %d MB -> %d MB%n", n, n, initial.toMillis(),
                    fleet.describe(), heapBefore >> 20, heapAfter >> 20);

            // The CA issues every connected node its certificate right after connect (10,000 signatures at N = 10,000):
            // let that finish, so that the measured changes do not share the cores with it.
            long issuing = System.nanoTime();
            try {
                await(Duration.ofMinutes(3), () -> cp.core().secretIssuer().renewals().stream().filter(r -> r.notAfter() != null)
                        .count() >= n);
            } catch (IllegalStateException e) {
                System.out.printf("n=%d: not every node has its certificate yet; measuring anyway%n", n);
            }
            System.out.printf("n=%d: certificates issued after %d ms more%n", n, (System.nanoTime() - issuing) / 1_000_000);

            // Warm-up: a few narrow edits elsewhere in the mesh, so that the measured changes run compiled code, as
            // they would in a server that has been up for a while (-Dfleet.warmup=0 measures a cold server).
            int warmups = Integer.getInteger("fleet.warmup", 5);
            for (int i = 0; i < warmups; i++) {
                int from = 3 + i % Math.max(1, apps - 5);
                Instant before = cp.core().meshState().status().appliedAt();
                Files.writeString(intents.resolve("warmup.yaml"), intentYaml("warmup", from, from + 2));
                await(Duration.ofMinutes(10), () -> !java.util.Objects.equals(before, cp.core().meshState().status().appliedAt()));
                await(Duration.ofMinutes(10), () -> cp.core().cache().allInSync());
            }
            System.out.printf("n=%d: %d warm-up edits applied%n", n, warmups);

            // Change 1: one new intent (app-0 may call app-2): affects app-0's outbound and app-2's inbound.
            rows.append(measure(cp, fleet, n, "one intent added", heapBefore, distinct, () ->
                    Files.writeString(intents.resolve("extra.yaml"), intentYaml("extra", 0, 2))));
            // Change 2: one intent edited (app-0 may now call app-2 on HTTP paths): the same proxies again.
            rows.append("\n").append(measure(cp, fleet, n, "one intent edited", heapBefore, distinct, () ->
                    Files.writeString(intents.resolve("extra.yaml"), intentYaml("extra", 0, 2)
                            .replace("protocol: GRPC}", "protocol: GRPC, http: {paths: [\"/bench.Api/*\"]}}"))));
            if (!Boolean.parseBoolean(System.getProperty("fleet.skipFlip", "false"))) {
                // Change 3: defaultAction flips to Allow: every proxy's RBAC changes.
                rows.append("\n").append(measure(cp, fleet, n, "defaultAction flipped", heapBefore, distinct, () ->
                        Files.writeString(intents.resolve("mesh.yaml"), meshYaml("Allow"))));
            }
            fleet.close();
        }
        return rows.toString();
    }

    interface Edit {
        void apply() throws Exception;
    }

    static String measure(ControlPlane cp, FleetClients.Fleet fleet, int n, String name, long heapBefore, int distinct, Edit edit)
            throws Exception {
        Instant appliedBefore = cp.core().meshState().status().appliedAt();
        long serverCpu0 = serverCpuNanos();
        long clientCpu0 = fleet.cpuNanos();
        long t0 = System.nanoTime();
        fleet.mark(t0);
        Instant wall0 = Instant.now();
        edit.apply();
        await(Duration.ofMinutes(10), () -> !java.util.Objects.equals(appliedBefore, cp.core().meshState().status().appliedAt()));
        await(Duration.ofMinutes(10), () -> cp.core().cache().allInSync());
        Duration applied = Duration.between(wall0, cp.core().meshState().status().appliedAt());
        long[] latencies = fleet.lastAcks().stream().mapToLong(Long::longValue).filter(v -> v > 0).map(v -> v - t0)
                .sorted().toArray();
        long serverCpu = serverCpuNanos() - serverCpu0;
        long clientCpu = fleet.cpuNanos() - clientCpu0;
        long perClient = (usedHeap() - heapBefore) / n; // after the change: the configuration now in force
        String row = String.format("| %d | %s | %d | %d ms | %s | %s | %s | %s | %d |", n, name, latencies.length, applied.toMillis(),
                ms(pct(latencies, 50)), ms(pct(latencies, 99)), ms(latencies.length == 0 ? 0 : latencies[latencies.length - 1]),
                kb(perClient), cp.core().status().distinctSnapshots());
        System.out.println(row);
        System.out.printf("n=%d, %s: CPU from the write to the last ACK: server %d ms, clients %s%n", n, name,
                serverCpu / 1_000_000, clientCpu < 0 ? "(in the server's JVM)" : clientCpu / 1_000_000 + " ms");
        return row;
    }

    static long serverCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    static long pct(long[] sorted, int p) {
        if (sorted.length == 0) {
            return 0;
        }
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    static String ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos) + " ms";
    }

    static String kb(long bytes) {
        return String.format("%.1f KB", bytes / 1024.0);
    }

    static long usedHeap() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    static void await(Duration max, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("condition not met within " + max);
            }
            Thread.sleep(20);
        }
    }

    static String workload(int i, int apps) {
        return "app-" + (i % apps) + "-" + (i / apps);
    }

    static String meshYaml(String defaultAction) {
        return """
                apiVersion: septa.dev/v1alpha1
                kind: MeshConfig
                metadata: {name: mesh}
                spec: {trustDomain: cluster.local, defaultAction: %s, mtls: Strict, certificateTTL: 1h}
                """.formatted(defaultAction);
    }

    static String segmentsYaml(int apps) {
        StringBuilder y = new StringBuilder();
        for (int a = 0; a < apps; a++) {
            y.append("""
                    apiVersion: septa.dev/v1alpha1
                    kind: Segment
                    metadata: {name: app-%d, namespace: bench}
                    spec: {selector: {matchLabels: {app: app-%d}}}
                    ---
                    """.formatted(a, a));
        }
        return y.toString();
    }

    static String intentYaml(String name, int from, int to) {
        return """
                apiVersion: septa.dev/v1alpha1
                kind: Intent
                metadata: {name: %s, namespace: bench}
                spec:
                  action: Allow
                  from: [{segment: app-%d}]
                  to: {segment: app-%d, ports: [{port: 8080, protocol: GRPC}]}
                ---
                """.formatted(name, from, to);
    }

    static String chainYaml(int apps) {
        StringBuilder y = new StringBuilder();
        for (int a = 0; a + 1 < apps; a++) {
            y.append(intentYaml("app-" + a + "-to-" + (a + 1), a, a + 1));
        }
        return y.toString();
    }

    static String inventoryYaml(int n, int apps) {
        StringBuilder y = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int app = i % apps;
            y.append("""
                    apiVersion: septa.dev/v1alpha1
                    kind: Workload
                    metadata: {name: %s, namespace: bench, labels: {app: app-%d}}
                    spec: {serviceAccount: app-%d, address: 127.%d.%d.%d, ports: [{name: grpc, port: 8080, protocol: GRPC}]}
                    ---
                    """.formatted(workload(i, apps), app, app, 10 + i / 62500, (i / 250) % 250, i % 250 + 1));
        }
        for (int a = 0; a < apps; a++) {
            y.append("""
                    apiVersion: septa.dev/v1alpha1
                    kind: Service
                    metadata: {name: app-%d, namespace: bench}
                    spec: {selector: {app: app-%d}, ports: [{name: grpc, port: 8080, protocol: GRPC}]}
                    ---
                    """.formatted(a, a));
        }
        return y.toString();
    }

    /**
     * One simulated Envoy: wildcard ADS for LDS/RDS/CDS/EDS, ACKs every response at once. It reads only what an ACK
     * needs (version, type, nonce) and skips over the resources: the clients share the server's 2 cores, and
     * parsing 8 GB of clusters (the flip at N = 10,000) would measure the client's CPU, not the control plane's.
     */
    static final class SimClient {
        static final MethodDescriptor<DiscoveryRequest, Ack> ADS = MethodDescriptor.<DiscoveryRequest, Ack>newBuilder()
                .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
                .setFullMethodName(AggregatedDiscoveryServiceGrpc.getStreamAggregatedResourcesMethod().getFullMethodName())
                .setRequestMarshaller(ProtoUtils.marshaller(DiscoveryRequest.getDefaultInstance()))
                .setResponseMarshaller(new AckMarshaller()).build();

        private final Channel channel;
        private final String node;
        private final Map<String, String> acked = new ConcurrentHashMap<>();
        private volatile long since = Long.MAX_VALUE;
        private volatile long lastAckAfter;
        private volatile boolean stopped;
        private StreamObserver<DiscoveryRequest> requests;

        SimClient(ManagedChannel channel, String node, String token) {
            Metadata md = new Metadata();
            md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
            this.channel = ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(md));
            this.node = node;
        }

        void start() {
            requests = ClientCalls.asyncBidiStreamingCall(channel.newCall(ADS, CallOptions.DEFAULT), new StreamObserver<Ack>() {
                @Override
                public void onNext(Ack r) {
                    synchronized (SimClient.this) {
                        requests.onNext(DiscoveryRequest.newBuilder().setTypeUrl(r.typeUrl())
                                .setVersionInfo(r.version()).setResponseNonce(r.nonce()).build());
                    }
                    acked.put(r.typeUrl(), r.version());
                    long now = System.nanoTime();
                    if (now > since) {
                        lastAckAfter = now;
                    }
                }

                @Override
                public void onError(Throwable t) {
                    if (!stopped) {
                        System.err.println(node + ": stream failed: " + t);
                    }
                }

                @Override
                public void onCompleted() {
                }
            });
            Node n = Node.newBuilder().setId(node).setUserAgentName("envoy")
                    .setMetadata(Struct.newBuilder().putFields("SEPTA_DIALECT", Value.newBuilder().setStringValue("envoy").build())).build();
            synchronized (this) {
                for (String type : TYPES) {
                    requests.onNext(DiscoveryRequest.newBuilder().setNode(n).setTypeUrl(type).build());
                }
            }
        }

        boolean synced() {
            return acked.keySet().containsAll(TYPES);
        }

        void since(long t0) {
            lastAckAfter = 0;
            since = t0;
        }

        long lastAckAfter() {
            return lastAckAfter;
        }

        void stop() {
            stopped = true;
            synchronized (this) {
                requests.onCompleted();
            }
        }
    }

    /** What of a DiscoveryResponse an ACK needs. */
    record Ack(String version, String typeUrl, String nonce) { }

    /** Reads fields 1 (version_info), 4 (type_url) and 5 (nonce) of a DiscoveryResponse; skips the rest. */
    static final class AckMarshaller implements MethodDescriptor.Marshaller<Ack> {
        @Override
        public InputStream stream(Ack value) {
            throw new UnsupportedOperationException("responses only");
        }

        @Override
        public Ack parse(InputStream stream) {
            try {
                CodedInputStream in = CodedInputStream.newInstance(stream);
                String version = "";
                String typeUrl = "";
                String nonce = "";
                for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                    switch (WireFormat.getTagFieldNumber(tag)) {
                        case 1 -> version = in.readStringRequireUtf8();
                        case 4 -> typeUrl = in.readStringRequireUtf8();
                        case 5 -> nonce = in.readStringRequireUtf8();
                        default -> in.skipField(tag);
                    }
                }
                return new Ack(version, typeUrl, nonce);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
