package dev.septa.controlplane.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.septa.controlplane.ControlPlaneCore;
import dev.septa.controlplane.ControlPlaneMetrics;
import dev.septa.controlplane.ControlPlaneOptions;
import dev.septa.controlplane.certs.CaWorkloadCertificates;
import dev.septa.policy.compile.CompiledMesh;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three control-plane replicas against one fabric8 mock API server (CRUD mode), each with its own client (told apart
 * on the server by its User-Agent), its own informers, leader election on Lease {@value LeaderElection#LEASE} and the
 * CA in Secrets: one leader at a time; every replica compiles the same informer state to the same configuration; a
 * root rotation started by the leader is followed by the others within seconds; the leader crashes (no lease release)
 * in the middle of stage 1, another takes over once the lease expires and finishes the rotation with no stage skipped
 * or repeated. Every write the API server receives is counted per replica (told apart by User-Agent) and kind: the
 * leaders wrote Secrets, the stage and trust-bundle ConfigMaps, the webhook's caBundle, CR status and the Lease; a
 * replica that never led wrote nothing but, at most, the Lease. Workloads on the replicas are
 * {@code WorkloadsAcrossReplicasHighAvailabilityTest}'s.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesHighAvailabilityTest {
    static final String NS = "septa-system";
    static final Duration WAIT = Duration.ofSeconds(90);
    /** Short for the test; the production values are LeaderElection.Timing.DEFAULT (docs/kubernetes.md). */
    static final LeaderElection.Timing TIMING = new LeaderElection.Timing(Duration.ofSeconds(4), Duration.ofSeconds(3), Duration.ofMillis(500));

    KubernetesMockServer server;
    KubernetesClient client;
    @TempDir
    Path dir;
    final List<Replica> replicas = new ArrayList<>();

    record Replica(String id, KubernetesClient client, LeaderElection election, KubernetesMode k8s, ControlPlaneCore core,
                   AtomicReference<CompiledMesh> applied) implements AutoCloseable {
        /**
         * A control-plane core on the shared API server as {@code septa serve --kubernetes} runs it (its own client
         * named {@code id}, leader election, leader-only CA writes, object-by-object compile), started and attached;
         * {@code options} adjusts what a test needs.
         */
        static Replica start(KubernetesClient api, java.nio.file.Path stateDir, String id,
                             java.util.function.UnaryOperator<ControlPlaneOptions.Builder> options) throws Exception {
            KubernetesClient own = new KubernetesClientBuilder()
                    .withConfig(new ConfigBuilder(api.getConfiguration()).withUserAgent(id).build()).build();
            LeaderElection election = new LeaderElection(own, NS, id, TIMING, false).start();
            KubernetesMode k8s = KubernetesMode.connect(own, WAIT).writeOnlyWhile(election::isLeader);
            assertThat(k8s.awaitCaOrLeadership(NS, WAIT)).isTrue();
            ControlPlaneCore core = new ControlPlaneCore(options.apply(ControlPlaneOptions.builder().source(k8s.source())
                    .compilation(k8s.compilation()).caStores(k8s.leaderOnly(new SecretRotationStores(own, NS)))
                    .stateDir(stateDir).xdsHost("127.0.0.1").xdsPort(0).httpPort(0)
                    .debounce(Duration.ofMillis(50), Duration.ofMillis(500)).pollInterval(Duration.ofHours(1)))
                    .build(), new ControlPlaneMetrics(new SimpleMeterRegistry()));
            AtomicReference<CompiledMesh> applied = new AtomicReference<>();
            core.onMeshApplied(applied::set);
            core.leadRotationOnlyWhile(election::isLeader);
            core.start();
            k8s.attach(core, Duration.ofMillis(100), Duration.ofSeconds(1));
            return new Replica(id, own, election, k8s, core, applied);
        }

        /** Stops as a crash would for the API: the lease is not released, it expires. */
        @Override
        public void close() {
            election.close();
            core.close();
            k8s.close();
            client.close();
        }
    }

    @AfterEach
    void stop() {
        replicas.forEach(Replica::close);
    }

    @Test
    void oneLeaderWritesFollowersFollowAndASuccessorFinishesTheRotationAfterTheLeaderCrashes() throws Exception {
        ShopCluster.createCrds(client);
        try (var in = java.nio.file.Files.newInputStream(WebhookCaBundlePublisherTest.MANIFEST)) {
            client.resource(client.admissionRegistration().v1().mutatingWebhookConfigurations().load(in).item()).create();
        }
        ShopPolicy.create(client);
        replicas.add(start("replica-0"));
        await().atMost(WAIT).until(() -> replicas.getFirst().election().isLeader());
        replicas.add(start("replica-1"));
        replicas.add(start("replica-2"));

        // One leader at a time, sampled for two lease renewals.
        for (int i = 0; i < 20; i++) {
            assertThat(replicas.stream().filter(r -> r.election().isLeader()).map(Replica::id)).containsExactly("replica-0");
            Thread.sleep(100);
        }
        // Same informer state, same configuration: same input hash, same compiled proxies, same CA.
        await().atMost(WAIT).untilAsserted(() -> {
            for (Replica r : replicas) {
                assertThat(r.core().status().compile().appliedInput()).isEqualTo(replicas.getFirst().core().status().compile().appliedInput());
                assertThat(r.applied().get().proxies()).isEqualTo(replicas.getFirst().applied().get().proxies());
                assertThat(r.core().certificates().trustBundlePem()).isEqualTo(replicas.getFirst().core().certificates().trustBundlePem());
            }
        });
        String oldBundle = replicas.getFirst().core().certificates().trustBundlePem();
        assertThat(replicas.get(1).core().requestRootRotation()).as("a follower refuses: the leader drives rotations")
                .isInstanceOf(ControlPlaneCore.RotationRequest.NeedsOperator.class);

        List<String> stagesSeen = new java.util.concurrent.CopyOnWriteArrayList<>();
        var watch = client.configMaps().inNamespace(NS).withName(SecretRotationStores.STAGE).watch(new io.fabric8.kubernetes.client.Watcher<>() {
            @Override
            public void eventReceived(Action action, ConfigMap map) {
                if ((action == Action.ADDED || action == Action.MODIFIED) && map.getData() != null) {
                    stagesSeen.add(map.getData().get("stage"));
                }
            }

            @Override
            public void onClose(io.fabric8.kubernetes.client.WatcherException cause) {
            }
        });
        // Stage 1 by the leader; the followers load the extended bundle from the Secret within seconds.
        assertThat(replicas.getFirst().core().requestRootRotation()).isInstanceOf(ControlPlaneCore.RotationRequest.Accepted.class);
        await().atMost(WAIT).until(() -> "bundle_extended".equals(stage()));
        long written = System.nanoTime();
        String extended = replicas.getFirst().core().certificates().trustBundlePem();
        assertThat(extended).isNotEqualTo(oldBundle);
        await().atMost(WAIT).until(() -> replicas.stream().allMatch(r -> r.core().certificates().trustBundlePem().equals(extended)));
        long followMillis = (System.nanoTime() - written) / 1_000_000;
        assertThat(followMillis).as("followers follow within seconds").isLessThan(5_000);

        // The leader crashes in stage 1 (before the settle time let it switch the signer).
        Replica crashed = replicas.removeFirst();
        crashed.close();
        long crashedAt = System.nanoTime();
        await().atMost(WAIT).until(() -> replicas.stream().anyMatch(r -> r.election().isLeader()));
        long takeoverMillis = (System.nanoTime() - crashedAt) / 1_000_000;
        assertThat(takeoverMillis).as("taken over within the lease duration (plus a retry period)")
                .isLessThan(TIMING.leaseDuration().plus(TIMING.retryPeriod().multipliedBy(2)).toMillis());
        Replica successor = replicas.stream().filter(r -> r.election().isLeader()).findFirst().orElseThrow();
        Replica follower = replicas.stream().filter(r -> r != successor).findFirst().orElseThrow();

        // The successor finishes: stage 3, then the old root leaves; both replicas end on one new root and one signer.
        await().atMost(WAIT).until(() -> "none".equals(stage()) && !successor.core().certificates().trustBundlePem().equals(extended));
        String finalBundle = successor.core().certificates().trustBundlePem();
        assertThat(finalBundle).isNotEqualTo(oldBundle);
        assertThat(finalBundle.split("BEGIN CERTIFICATE", -1)).hasSize(2);
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(follower.core().certificates().trustBundlePem()).isEqualTo(finalBundle);
            assertThat(fingerprint(follower)).isEqualTo(fingerprint(successor));
        });
        assertThat(replicas.stream().filter(r -> r.election().isLeader()).count()).isEqualTo(1);
        watch.close();

        // What the API server received: each stage written once, in order, by whoever led at the time.
        List<RecordedRequest> requests = new ArrayList<>();
        for (RecordedRequest r; (r = server.takeRequest(1, TimeUnit.MILLISECONDS)) != null; ) {
            requests.add(r);
        }
        assertThat(requests).as("recorded requests").isNotEmpty();
        // The mock server keeps no request bodies, so the values come from a watch: every write of the stage is one event.
        assertThat(stagesSeen).containsExactly("bundle_extended", "signer_switched", "none");
        assertThat(requests.stream().filter(r -> !r.getMethod().equals("GET") && r.getPath().startsWith("/api/v1/namespaces/" + NS + "/"))
                .map(KubernetesHighAvailabilityTest::agent).distinct()).as("who wrote the CA's Secrets and the stage")
                .containsExactlyInAnyOrder("replica-0", successor.id());

        // Every write the API server received, per replica and kind. The leaders wrote every kind a leader writes; a
        // replica that never led wrote nothing but its attempts at the lease.
        Map<String, Map<String, Long>> writes = new java.util.TreeMap<>();
        for (RecordedRequest r : requests) {
            if (!r.getMethod().equals("GET") && agent(r).startsWith("replica-")) { // not the test's own client
                writes.computeIfAbsent(agent(r), a -> new java.util.TreeMap<>()).merge(writeKind(r), 1L, Long::sum);
            }
        }
        System.out.println("HA: writes per replica and kind: " + writes);
        Map<String, Long> leaders = new java.util.TreeMap<>();
        writes.getOrDefault("replica-0", Map.of()).forEach((k, n) -> leaders.merge(k, n, Long::sum));
        writes.getOrDefault(successor.id(), Map.of()).forEach((k, n) -> leaders.merge(k, n, Long::sum));
        assertThat(leaders.keySet()).as("what the leaders wrote").contains("Secret", "ConfigMap septa-ca-rotation",
                "ConfigMap septa-trust-bundle", "MutatingWebhookConfiguration caBundle", "CR status", "Lease");
        assertThat(leaders.keySet()).as("every write is of a known kind").allMatch(k -> !k.startsWith("other"));
        assertThat(follower.election().terms()).isZero();
        assertThat(writes.getOrDefault(follower.id(), Map.of()).keySet()).as("what a replica that never led wrote")
                .isSubsetOf("Lease");
        assertThat(follower.k8s().statuses().writes()).isZero();
        System.out.printf("HA: followers followed stage 1 in %d ms; takeover %d ms after the crash (lease %s); %d requests%n",
                followMillis, takeoverMillis, TIMING.leaseDuration(), requests.size());
    }

    private Replica start(String id) throws Exception {
        Replica replica = Replica.start(client, dir.resolve(id), id, options -> options);
        replica.k8s().serveWebhook(replica.core(), new java.net.InetSocketAddress("127.0.0.1", 0), Duration.ofMillis(200), Duration.ofSeconds(1));
        return replica;
    }

    private String stage() {
        ConfigMap map = client.configMaps().inNamespace(NS).withName(SecretRotationStores.STAGE).get();
        return map == null || map.getData() == null ? "none" : map.getData().get("stage");
    }

    private static String fingerprint(Replica r) {
        return CaWorkloadCertificates.fingerprint(((CaWorkloadCertificates) r.core().certificates()).signingCertificate());
    }

    /** What a write request writes, by its path. */
    static String writeKind(RecordedRequest r) {
        String path = r.getPath().replaceFirst("\\?.*", "");
        if (path.contains("/leases")) {
            return "Lease";
        } else if (path.contains("/secrets")) {
            return "Secret";
        } else if (path.contains("/configmaps/")) {
            return "ConfigMap " + path.substring(path.lastIndexOf('/') + 1);
        } else if (path.endsWith("/configmaps")) { // a create: the stage in our namespace, a trust bundle elsewhere
            return path.startsWith("/api/v1/namespaces/" + NS + "/") ? "ConfigMap " + SecretRotationStores.STAGE : "ConfigMap " + TrustBundlePublisher.CONFIG_MAP;
        } else if (path.contains("/mutatingwebhookconfigurations/")) {
            return "MutatingWebhookConfiguration caBundle";
        } else if (path.startsWith("/apis/septa.dev/") && path.endsWith("/status")) {
            return "CR status";
        }
        return "other " + r.getMethod() + " " + path;
    }

    private static String agent(RecordedRequest r) {
        String ua = r.getHeader("User-Agent");
        return ua == null ? "" : ua;
    }

    /** The shop's policy without pods: a rotation then waits for no workload, only for its settle times. */
    static final class ShopPolicy {
        static void create(KubernetesClient client) throws Exception {
            for (Path file : List.of("segments.yaml", "intents.yaml", "mesh.yaml").stream().map(ShopCluster.SHOP.resolve("intents")::resolve).toList()) {
                for (var doc : ShopCluster.documents(file)) {
                    ShopCluster.createCustomResource(client, ShopCluster.YAML.convertValue(doc, io.fabric8.kubernetes.api.model.GenericKubernetesResource.class));
                }
            }
            client.namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata().withName("shop")
                    .addToLabels("septa.dev/inject", "enabled").endMetadata().build()).create();
        }
    }
}
