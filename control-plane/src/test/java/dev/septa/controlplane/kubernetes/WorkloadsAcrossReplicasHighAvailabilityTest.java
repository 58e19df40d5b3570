package dev.septa.controlplane.kubernetes;

import dev.septa.sidecar.grpc.BytesMethods;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.septa.controlplane.ControlPlaneCore;
import dev.septa.controlplane.certs.CaWorkloadCertificates;
import dev.septa.demo.ExpectedDecisions;
import dev.septa.demo.RotatingChannels;
import dev.septa.policy.check.Decision;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.sidecar.agent.SdsAgent;
import dev.septa.sidecar.bootstrap.BootstrapJson;
import dev.septa.sidecar.bootstrap.CertificateFileLayout;
import dev.septa.sidecar.bootstrap.ControlPlaneEndpoint;
import dev.septa.sidecar.bootstrap.GrpcBootstrapGenerator;
import dev.septa.sidecar.bootstrap.ProxyNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MetricRecorder;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.grpc.xds.XdsChannelCredentials;
import io.grpc.xds.InternalGrpcBootstrapperImpl;
import io.grpc.xds.InternalSharedXdsClientPoolProvider;
import io.grpc.xds.XdsNameResolverProvider;
import io.grpc.xds.XdsServerBuilder;
import io.grpc.xds.XdsServerCredentials;
import io.grpc.xds.client.XdsClient;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real grpc-java xDS workloads (servers through {@link XdsServerBuilder}, clients through {@code xds:} channels, mTLS
 * between them from Septa's SVIDs, RBAC from Septa's listeners) spread over three control-plane replicas on one fabric8
 * mock API server (CRUD mode), through a root rotation whose leader is stopped in the middle of stage 1.
 *
 * <p>Each workload runs in this JVM with its own bootstrap ({@code overrideBootstrapForTest} for its servers; for its
 * channels one xDS client per target made from the bootstrap, as grpc-java keeps one per target in a process, handed to
 * each channel through {@code XdsNameResolverProvider.XDS_CLIENT_SUPPLIER}), its own {@link SdsAgent} and certificate
 * files. Its bootstrap names its own {@link ReplicaServiceAddress}: a loopback stand-in for the Service
 * {@code septa.septa-system.svc} that sends each new connection to the workload's home replica while it accepts
 * connections, else to the next replica in the workload's order, as kube-proxy sends a connection to a ready endpoint.
 * (grpc-java's own answer, a second entry in {@code xds_servers}, does not help here: gRFC A71 fallback moves only
 * subscriptions that have no data yet, and a running workload has all of its data, so it would stay on the dead replica.)
 *
 * <p>Every call is judged by the policy ({@link ExpectedDecisions}, Septa's checker on the compiled mesh): an allowed
 * call that failed, whatever the error, and a denied call that was served are both failures. Calls are not retried
 * (channels built with {@code disableRetry()}), and each client replaces its channels every few seconds
 * ({@link RotatingChannels}) and also makes each planned call once a second on a channel made for it, so new xDS
 * resolutions and new TLS handshakes are judged throughout the failover and the rotation, not only long-lived
 * connections (TLS checks certificates only at the handshake).
 */
@EnableKubernetesMockClient(crud = true)
class WorkloadsAcrossReplicasHighAvailabilityTest {
    static final String NS = KubernetesHighAvailabilityTest.NS;
    static final Duration WAIT = Duration.ofSeconds(90);
    static final LeaderElection.Timing TIMING = KubernetesHighAvailabilityTest.TIMING;
    /** Short for the test (production: 60 s): how long a stage waits for workloads the leader does not see. */
    static final Duration ABSENT_GRACE = Duration.ofSeconds(6);
    /** Longer than the settle time (3 s), so stage 3 depends on the leader waiting for what other replicas re-issue. */
    static final Duration REISSUE_WINDOW = Duration.ofSeconds(6);
    static final Duration CALL_EVERY = Duration.ofMillis(100);
    static final Duration CALL_DEADLINE = Duration.ofSeconds(5);
    static final Duration CHANNEL_ROTATION = Duration.ofSeconds(4);
    /** Besides, each planned call once a second on a channel of its own, made for it and closed after it. */
    static final Duration NEW_CHANNEL_EVERY = Duration.ofSeconds(1);

    KubernetesClient client;
    @TempDir
    Path dir;
    final List<KubernetesHighAvailabilityTest.Replica> replicas = new ArrayList<>();
    final List<Workload> workloads = new ArrayList<>();
    final List<ReplicaServiceAddress> addresses = new ArrayList<>();
    final Calls calls = new Calls();

    @AfterEach
    void stop() {
        calls.running.set(false);
        workloads.forEach(Workload::close);
        addresses.forEach(ReplicaServiceAddress::close);
        replicas.forEach(KubernetesHighAvailabilityTest.Replica::close);
    }

    /** One workload of the test: its pod, its home replica (index), the port it serves (0: none), what it calls. */
    record Spec(String name, String app, String address, int port, int home, List<Call> calls) {}

    record Call(String target, String path) {}

    @Test
    void workloadsKeepCallingWhileTheLeaderStopsInTheMiddleOfARootRotation() throws Exception {
        KubernetesHighAvailabilityTest.ShopPolicy.create(client);
        List<Spec> specs = List.of(
                new Spec("storefront-1", "storefront", "127.0.97.1", 0, 0, List.of(
                        new Call("catalog.shop:9090", "/shop.Catalog/List"),
                        new Call("checkout.shop:8443", "/shop.Checkout/PlaceOrder"),
                        new Call("checkout.shop:8443", "/shop.Checkout/Cancel"),
                        new Call("payments.shop:8443", "/shop.Payments/Charge"))),
                new Spec("catalog-1", "catalog", "127.0.97.4", 9090, 0, List.of()),
                new Spec("checkout-1", "checkout", "127.0.97.2", 8443, 1, List.of(
                        new Call("payments.shop:8443", "/shop.Payments/Charge"),
                        new Call("payments.shop:8443", "/shop.Payments/Delete"),
                        new Call("catalog.shop:9090", "/shop.Catalog/UpdateItem"))),
                new Spec("payments-1", "payments", "127.0.97.3", 8443, 2, List.of()),
                new Spec("catalog-2", "catalog", "127.0.97.5", 9090, 2, List.of()));
        for (Spec s : specs) {
            var labels = s.app().equals("payments") ? Map.of("app", s.app(), "tier", "backend") : Map.of("app", s.app());
            var ports = s.port() == 0 ? List.<io.fabric8.kubernetes.api.model.ContainerPort>of()
                    : List.of(new ContainerPortBuilder().withName("grpc").withContainerPort(s.port()).withProtocol("TCP").build());
            ShopCluster.createPod(client, ShopCluster.injectedPod("shop", s.name(), labels, s.app(), s.address(), ports));
        }
        for (var service : Map.of("catalog", 9090, "checkout", 8443, "payments", 8443).entrySet()) {
            client.services().inNamespace("shop").resource(new ServiceBuilder().withNewMetadata().withName(service.getKey())
                    .withNamespace("shop").endMetadata().withNewSpec().withSelector(Map.of("app", service.getKey()))
                    .addNewPort().withName("grpc").withPort(service.getValue()).withTargetPort(new IntOrString(service.getValue()))
                    .withProtocol("TCP").endPort().endSpec().build()).create();
        }

        replicas.add(start("replica-0"));
        await().atMost(WAIT).until(() -> replicas.getFirst().election().isLeader());
        replicas.add(start("replica-1"));
        replicas.add(start("replica-2"));
        await().atMost(WAIT).untilAsserted(() -> {
            for (var r : replicas) {
                assertThat(r.applied().get()).isNotNull();
                assertThat(r.applied().get().proxies()).isEqualTo(replicas.getFirst().applied().get().proxies());
                assertThat(r.applied().get().proxies()).hasSize(specs.size());
            }
        });
        CompiledMesh mesh = replicas.getFirst().applied().get();
        calls.decisions = new ExpectedDecisions(mesh);
        String firstBundle = replicas.getFirst().core().certificates().trustBundlePem();

        // The workloads: each on its own Service address, home replica first.
        for (Spec s : specs) {
            List<KubernetesHighAvailabilityTest.Replica> order = new ArrayList<>();
            for (int i = 0; i < replicas.size(); i++) {
                order.add(replicas.get((s.home() + i) % replicas.size()));
            }
            var address = new ReplicaServiceAddress(s.name(), order);
            addresses.add(address);
            var token = replicas.get(s.home()).core().nodeTokens().mint("shop/" + s.name());
            workloads.add(new Workload(s, address, firstBundle, token, dir.resolve("workloads").resolve(s.name()), calls));
        }
        for (Workload w : workloads) {
            w.start();
        }
        // Every call the plan makes has a verdict, and the plan has both kinds.
        List<Decision.Verdict> verdicts = specs.stream().flatMap(s -> s.calls().stream().map(c -> calls.decide("shop/" + s.name(), c.target(), c.path(), null)
                .orElseThrow(() -> new AssertionError("no single decision for " + s.name() + " -> " + c)).verdict())).toList();
        assertThat(verdicts).contains(Decision.Verdict.ALLOW, Decision.Verdict.DENY);
        // Warm-up (not counted): every allowed call of the plan has just succeeded 20 times in a row (a channel made
        // while its server was not serving yet may still be backing off from the refused connection).
        await().atMost(WAIT).untilAsserted(() -> {
            for (String pair : calls.plannedAllowed(specs)) {
                assertThat(calls.okInARow.getOrDefault(pair, new AtomicLong()).get()).as(pair).isGreaterThanOrEqualTo(20);
            }
        });

        calls.startCounting();
        long countingSince = System.nanoTime();
        var stagesSeen = new CopyOnWriteArrayList<String>();
        var watch = client.configMaps().inNamespace(NS).withName(SecretRotationStores.STAGE).watch(new Watcher<ConfigMap>() {
            @Override
            public void eventReceived(Action action, ConfigMap map) {
                if ((action == Action.ADDED || action == Action.MODIFIED) && map.getData() != null) {
                    stagesSeen.add(map.getData().get("stage"));
                }
            }

            @Override
            public void onClose(WatcherException cause) {
            }
        });
        Thread.sleep(2_000); // calls across all replicas before anything happens

        // Stage 1 by the leader; the followers and every workload's files take the extended bundle.
        assertThat(replicas.getFirst().core().requestRootRotation()).isInstanceOf(ControlPlaneCore.RotationRequest.Accepted.class);
        await().atMost(WAIT).until(() -> "bundle_extended".equals(stage()));
        String extended = replicas.getFirst().core().certificates().trustBundlePem();
        await().atMost(WAIT).until(() -> replicas.stream().allMatch(r -> r.core().certificates().trustBundlePem().equals(extended)));

        // The leader stops in the middle of stage 1 (it waits ABSENT_GRACE for the workloads it does not see).
        var stopped = replicas.removeFirst();
        assertThat(stagesSeen).as("stopped in stage 1").containsExactly("bundle_extended");
        long stoppedAt = System.nanoTime();
        stopped.close();
        Map<String, Long> reconnectMillis = new ConcurrentHashMap<>();
        List<String> homedOnStopped = specs.stream().filter(s -> s.home() == 0).map(s -> "shop/" + s.name()).toList();
        await().atMost(WAIT).untilAsserted(() -> {
            for (String node : homedOnStopped) {
                if (replicas.stream().anyMatch(r -> r.core().cache().connectedNodes().contains(node))) {
                    reconnectMillis.putIfAbsent(node, (System.nanoTime() - stoppedAt) / 1_000_000);
                }
            }
            assertThat(reconnectMillis.keySet()).containsExactlyInAnyOrderElementsOf(homedOnStopped);
        });
        await().atMost(WAIT).until(() -> replicas.stream().anyMatch(r -> r.election().isLeader()));
        long takeoverMillis = (System.nanoTime() - stoppedAt) / 1_000_000;
        var successor = replicas.stream().filter(r -> r.election().isLeader()).findFirst().orElseThrow();

        // The successor finishes; every workload ends on the final bundle with a certificate from the new signer.
        await().atMost(WAIT).until(() -> "none".equals(stage()) && !successor.core().certificates().trustBundlePem().equals(extended));
        String finalBundle = successor.core().certificates().trustBundlePem();
        assertThat(finalBundle).isNotEqualTo(firstBundle);
        X509Certificate signer = ((CaWorkloadCertificates) successor.core().certificates()).signingCertificate();
        await().atMost(WAIT).untilAsserted(() -> {
            for (Workload w : workloads) {
                assertThat(Files.readString(w.files.ca())).as(w.spec.name() + "'s ca.pem").isEqualTo(finalBundle);
                assertThat(w.leaf().getIssuerX500Principal()).as(w.spec.name() + "'s certificate").isEqualTo(signer.getSubjectX500Principal());
                w.leaf().verify(signer.getPublicKey());
            }
        });
        Thread.sleep(3_000); // and keep calling on the final bundle, with fresh channels (handshakes) meanwhile
        calls.stopCounting();
        long countedMillis = (System.nanoTime() - countingSince) / 1_000_000;
        watch.close();

        // New channels now (new xDS resolution on a survivor, new TLS handshakes with the final certificates and
        // bundle on both sides) give each planned call its policy's answer.
        for (Workload w : workloads) {
            for (Call c : w.spec.calls()) {
                String[] servedBy = new String[1];
                Status status = w.freshCall(c, servedBy);
                boolean allowed = calls.decide(w.id(), c.target(), c.path(), servedBy[0]).orElseThrow().verdict() == Decision.Verdict.ALLOW;
                assertThat(status.isOk()).as(w.id() + " -> " + c + " on a new channel: " + status).isEqualTo(allowed);
            }
        }
        assertThat(stagesSeen).as("no stage skipped or repeated").containsExactly("bundle_extended", "signer_switched", "none");
        System.out.printf("HA workloads: %d allowed calls ok, %d denied calls refused, over %d ms; leader stopped in stage 1,"
                        + " successor %s leads %d ms later; reconnected (ms after the stop): %s; connections per replica: %s%n",
                calls.allowedOk.get(), calls.deniedRefused.get(), countedMillis, successor.id(), takeoverMillis, reconnectMillis,
                addresses.stream().map(a -> a.name + "=" + a.connections).toList());
        assertThat(calls.failures).as("allowed calls that failed and denied calls that were served").isEmpty();
        assertThat(calls.unjudged).as("calls without a single decision").isEmpty();
        // Calls ran all along: on every planned pair, at least one per second counted.
        long seconds = countedMillis / 1000;
        for (var pair : calls.plannedAllowed(specs)) {
            assertThat(calls.countedOk.getOrDefault(pair, new AtomicLong()).get()).as("calls served on " + pair).isGreaterThan(seconds);
        }
        assertThat(calls.deniedRefused.get()).isGreaterThan(seconds);
        // The workloads of the stopped replica moved to the survivors, through their Service address.
        for (ReplicaServiceAddress a : addresses.subList(0, 2)) {
            assertThat(a.connections.keySet()).as(a.name + " connected to").contains("replica-0").hasSizeGreaterThan(1);
        }
    }

    private KubernetesHighAvailabilityTest.Replica start(String id) throws Exception {
        var replica = KubernetesHighAvailabilityTest.Replica.start(client, dir.resolve(id), id,
                options -> options.rootRotationReissueWindow(REISSUE_WINDOW));
        replica.core().rootRotator().orElseThrow().absentGrace(ABSENT_GRACE);
        return replica;
    }

    private String stage() {
        ConfigMap map = client.configMaps().inNamespace(NS).withName(SecretRotationStores.STAGE).get();
        return map == null || map.getData() == null ? "none" : map.getData().get("stage");
    }

    /** Every call's outcome, judged by the policy while counting. */
    static final class Calls {
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicBoolean counting = new AtomicBoolean();
        final AtomicLong inFlight = new AtomicLong();
        final AtomicLong allowedOk = new AtomicLong();
        final AtomicLong deniedRefused = new AtomicLong();
        final Map<String, AtomicLong> countedOk = new ConcurrentHashMap<>();
        /** Per pair, successes since its last failure (warm-up). */
        final Map<String, AtomicLong> okInARow = new ConcurrentHashMap<>();
        final List<String> failures = new CopyOnWriteArrayList<>();
        final List<String> unjudged = new CopyOnWriteArrayList<>();
        volatile ExpectedDecisions decisions;

        Optional<Decision> decide(String from, String target, String path, String servedBy) {
            return decisions.decide(from, target, path, servedBy);
        }

        static String pair(String from, String target, String path) {
            return from + " -> " + target + path;
        }

        List<String> plannedAllowed(List<Spec> specs) {
            return specs.stream().flatMap(s -> s.calls().stream()
                    .filter(c -> decide("shop/" + s.name(), c.target(), c.path(), null).map(d -> d.verdict() == Decision.Verdict.ALLOW).orElse(false))
                    .map(c -> pair("shop/" + s.name(), c.target(), c.path()))).toList();
        }

        void startCounting() {
            counting.set(true);
        }

        /** Stops counting once every call started while counting has ended (each has a deadline). */
        void stopCounting() {
            counting.set(false);
            await().atMost(CALL_DEADLINE.multipliedBy(2)).until(() -> inFlight.get() == 0);
        }

        void result(String from, Call call, boolean counted, Status status, String servedBy, long startedNanos) {
            String pair = pair(from, call.target(), call.path());
            AtomicLong row = okInARow.computeIfAbsent(pair, p -> new AtomicLong());
            if (status.isOk()) {
                row.incrementAndGet();
            } else {
                row.set(0);
            }
            if (!counted) {
                return;
            }
            Optional<Decision> decision = decide(from, call.target(), call.path(), servedBy);
            if (decision.isEmpty()) {
                unjudged.add(pair + ": " + status.getCode() + " served by " + servedBy);
                return;
            }
            boolean allowed = decision.get().verdict() == Decision.Verdict.ALLOW;
            String at = String.format(" (call started %s, %d ms)", java.time.LocalTime.now(), (System.nanoTime() - startedNanos) / 1_000_000);
            if (allowed && status.isOk()) {
                allowedOk.incrementAndGet();
                countedOk.computeIfAbsent(pair, p -> new AtomicLong()).incrementAndGet();
            } else if (allowed) {
                failures.add("allowed, failed: " + pair + ": " + status.getCode() + " " + status.getDescription() + at);
            } else if (status.isOk()) {
                failures.add("denied, served by " + servedBy + ": " + pair + at);
            } else {
                deniedRefused.incrementAndGet();
            }
        }
    }

    /** A workload: pod identity, SDS agent, bootstrap of its own, an xDS server (if it serves) and xDS client channels. */
    static final class Workload implements AutoCloseable {
        final Spec spec;
        final CertificateFileLayout files;
        private final ReplicaServiceAddress address;
        private final String trustBundle;
        private final String token;
        private final Calls calls;
        private SdsAgent agent;
        private final Map<String, InternalSharedXdsClientPoolProvider.XdsClientResult> pools = new ConcurrentHashMap<>();
        private final Map<String, XdsClient> xdsClients = new ConcurrentHashMap<>();
        private Server server;
        private RotatingChannels channels;
        private final ScheduledExecutorService caller = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().factory());

        Workload(Spec spec, ReplicaServiceAddress address, String trustBundle, String token, Path dir, Calls calls) throws IOException {
            this.spec = spec;
            this.address = address;
            this.trustBundle = trustBundle;
            this.token = token;
            this.calls = calls;
            this.files = new CertificateFileLayout(Files.createDirectories(dir));
        }

        String id() {
            return "shop/" + spec.name();
        }

        void start() throws Exception {
            var labels = spec.app().equals("payments") ? Map.of("app", spec.app(), "tier", "backend") : Map.of("app", spec.app());
            var node = new ProxyNode("shop", spec.name(), labels, spec.app());
            // The token admits the first SDS stream (to the home replica, which minted it); from then on the agent
            // presents its SVID, which every replica accepts.
            var endpoint = new ControlPlaneEndpoint("127.0.0.1", address.port(), trustBundle);
            agent = new SdsAgent(node, endpoint, () -> Optional.of(token), files, new SdsAgent.Listener() { }).start();
            assertThat(agent.awaitFirstWrite(WAIT)).as(spec.name() + " got its SVID").isTrue();
            // A65 tls creds to the control plane with the agent's files (Septa's provider), file_watcher for the data plane.
            @SuppressWarnings("unchecked")
            Map<String, ?> bootstrap = (Map<String, ?>) io.grpc.internal.JsonParser.parse(
                    BootstrapJson.toJson(new GrpcBootstrapGenerator().generateMap(node, endpoint, files)));
            if (spec.port() != 0) {
                var serving = new java.util.concurrent.CountDownLatch(1);
                server = XdsServerBuilder.forAddress(new InetSocketAddress(spec.address(), spec.port()),
                                XdsServerCredentials.create(InsecureServerCredentials.create()))
                        .overrideBootstrapForTest(bootstrap)
                        .fallbackHandlerRegistry(new EchoRegistry(id()))
                        .xdsServingStatusListener(new XdsServerBuilder.XdsServingStatusListener() {
                            @Override
                            public void onServing() {
                                serving.countDown();
                            }

                            @Override
                            public void onNotServing(Throwable t) {
                            }
                        }).build();
                Thread.ofPlatform().daemon().start(() -> {
                    try {
                        server.start();
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                });
                assertThat(serving.await(WAIT.toSeconds(), TimeUnit.SECONDS)).as(spec.name() + " serves").isTrue();
            }
            if (!spec.calls().isEmpty()) {
                // As in a workload's process: one xDS client per channel target, shared by every channel to it (a new
                // channel resolves from its cache, and its stream reconnects on its own), on this workload's bootstrap.
                var info = InternalGrpcBootstrapperImpl.parseBootstrap(bootstrap);
                for (Call c : spec.calls()) {
                    pools.computeIfAbsent(c.target(), t -> InternalSharedXdsClientPoolProvider.getOrCreate(
                            id() + " " + t, info, new MetricRecorder() { }, null));
                    xdsClients.computeIfAbsent(c.target(), t -> pools.get(t).getObject());
                }
                channels = new RotatingChannels(this::newChannel, Duration.ofSeconds(2)).every(CHANNEL_ROTATION);
                caller.scheduleAtFixedRate(this::callAll, 0, CALL_EVERY.toMillis(), TimeUnit.MILLISECONDS);
                caller.scheduleAtFixedRate(this::callAllOnNewChannels, 0, NEW_CHANNEL_EVERY.toMillis(), TimeUnit.MILLISECONDS);
            }
        }

        /** One call on a channel of its own, closed after. */
        Status freshCall(Call c, String[] servedBy) throws InterruptedException {
            ManagedChannel channel = newChannel(c.target());
            try {
                byte[] answer = ClientCalls.blockingUnaryCall(channel, BytesMethods.unary(c.path().substring(1)),
                        CallOptions.DEFAULT.withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS), new byte[0]);
                servedBy[0] = new String(answer, StandardCharsets.UTF_8);
                return Status.OK;
            } catch (RuntimeException e) {
                return Status.fromThrowable(e);
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }

        X509Certificate leaf() throws Exception {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(files.cert())));
        }

        private ManagedChannel newChannel(String target) {
            XdsClient xds = xdsClients.get(target);
            return Grpc.newChannelBuilder("xds:///" + target, XdsChannelCredentials.create(InsecureChannelCredentials.create()))
                    .setNameResolverArg(XdsNameResolverProvider.XDS_CLIENT_SUPPLIER, () -> xds).disableRetry().build();
        }

        private void callAll() {
            for (Call c : spec.calls()) {
                if (!calls.running.get()) {
                    return;
                }
                call(c, channels.get(c.target()), () -> { });
            }
        }

        /** As a workload that opens a connection now would: xDS resolution and TLS handshakes happen for this call. */
        private void callAllOnNewChannels() {
            for (Call c : spec.calls()) {
                if (!calls.running.get()) {
                    return;
                }
                ManagedChannel channel = newChannel(c.target());
                call(c, channel, channel::shutdown);
            }
        }

        private void call(Call c, ManagedChannel channel, Runnable after) {
            boolean counted = calls.counting.get();
            long started = System.nanoTime();
            if (counted) {
                calls.inFlight.incrementAndGet();
            }
            var call = channel.newCall(BytesMethods.unary(c.path().substring(1)), CallOptions.DEFAULT.withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS));
            ClientCalls.asyncUnaryCall(call, new byte[0], new StreamObserver<>() {
                private String servedBy = "-";

                @Override
                public void onNext(byte[] value) {
                    servedBy = new String(value, StandardCharsets.UTF_8);
                }

                @Override
                public void onError(Throwable t) {
                    done(Status.fromThrowable(t));
                }

                @Override
                public void onCompleted() {
                    done(Status.OK);
                }

                private void done(Status status) {
                    try {
                        after.run();
                        calls.result(id(), c, counted, status, servedBy, started);
                    } finally {
                        if (counted) {
                            calls.inFlight.decrementAndGet();
                        }
                    }
                }
            });
        }

        @Override
        public void close() {
            caller.shutdownNow();
            if (channels != null) {
                channels.close();
            }
            xdsClients.forEach((target, xds) -> pools.get(target).returnObject(xds));
            if (server != null) {
                server.shutdownNow();
            }
            if (agent != null) {
                agent.close();
            }
        }
    }
}
