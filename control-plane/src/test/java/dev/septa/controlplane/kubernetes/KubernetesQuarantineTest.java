package dev.septa.controlplane.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.septa.controlplane.ControlPlaneCore;
import dev.septa.controlplane.ControlPlaneMetrics;
import dev.septa.controlplane.ControlPlaneOptions;
import dev.septa.controlplane.quarantine.QuarantineListener;
import dev.septa.policy.check.Checker;
import dev.septa.policy.check.Query;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.sidecar.inject.PodInjector;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kubernetes mode: a {@code Quarantine} custom resource is one more input the informers read. Creating it puts the
 * quarantine in force (septa check says {@code DENY quarantine:<reason>} both ways, the listener hears of it), deleting
 * it releases; every Quarantine's status says whether it was accepted, and a malformed one is set aside on its own
 * (status False, its error) while the quarantine in force stays. fabric8's mock API server in CRUD mode.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesQuarantineTest {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static final Duration WAIT = Duration.ofSeconds(60);
    static final Query CHARGE = new Query("shop/checkout-1", "shop/payments-1", 8443, "POST", "/charge");
    static final Query ORDER = new Query("shop/web-1", "shop/checkout-1", 8443, "POST", "/order");

    KubernetesClient client;
    @TempDir
    Path dir;
    KubernetesMode k8s;
    ControlPlaneCore core;
    final AtomicReference<CompiledMesh> applied = new AtomicReference<>();
    final List<String> events = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        if (core != null) {
            core.close();
        }
        if (k8s != null) {
            k8s.close();
        }
    }

    @Test
    void aQuarantineResourceIsEnforcedAndItsDeletionReleases() throws Exception {
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("shop")
                .addToLabels("septa.dev/inject", "enabled").endMetadata().build()).create();
        for (String app : List.of("web", "checkout", "payments")) {
            createPod(app, "127.0.1." + (List.of("web", "checkout", "payments").indexOf(app) + 1));
            create(KubernetesMeshSource.SEGMENTS, "{apiVersion: septa.dev/v1alpha1, kind: Segment, metadata: {name: " + app
                    + ", namespace: shop}, spec: {selector: {matchLabels: {app: " + app + "}}}}");
        }
        create(KubernetesMeshSource.INTENTS, "{apiVersion: septa.dev/v1alpha1, kind: Intent, metadata: {name: pay, namespace: shop},"
                + " spec: {action: Allow, from: [{segment: checkout}], to: {segment: payments}}}");
        create(KubernetesMeshSource.INTENTS, "{apiVersion: septa.dev/v1alpha1, kind: Intent, metadata: {name: order, namespace: shop},"
                + " spec: {action: Allow, from: [{segment: web}], to: {segment: checkout}}}");
        k8s = KubernetesMode.connect(client, WAIT);
        core = new ControlPlaneCore(ControlPlaneOptions.builder().source(k8s.source()).compilation(k8s.compilation()).stateDir(dir.resolve("state"))
                .xdsHost("127.0.0.1").xdsPort(0).httpPort(0).debounce(Duration.ofMillis(50), Duration.ofMillis(500))
                .pollInterval(Duration.ofHours(1)).build(), new ControlPlaneMetrics(new SimpleMeterRegistry()));
        core.onMeshApplied(applied::set);
        core.onQuarantineChange(new QuarantineListener() {
            @Override
            public void quarantined(Event e) {
                events.add("quarantined " + e.workload() + " " + e.reason() + " " + e.origin());
            }

            @Override
            public void released(Event e) {
                events.add("released " + e.workload());
            }
        });
        core.start();
        k8s.attach(core, Duration.ofMillis(100), Duration.ofSeconds(2));
        await().atMost(WAIT).untilAsserted(() -> assertThat(new Checker(applied.get()).check(CHARGE)).hasToString("ALLOW shop/pay"));

        create(KubernetesMeshSource.QUARANTINES, "{apiVersion: septa.dev/v1alpha1, kind: Quarantine, metadata: {name: ir-7, namespace: shop},"
                + " spec: {workload: checkout-1, reason: \"IR-7\"}}");
        await().atMost(WAIT).untilAsserted(() -> {
            Checker checker = new Checker(applied.get());
            assertThat(checker.check(CHARGE)).hasToString("DENY quarantine:IR-7");
            assertThat(checker.check(ORDER)).hasToString("DENY quarantine:IR-7");
        });
        assertThat(events).containsExactly("quarantined shop/checkout-1 IR-7 k8s:shop/Quarantine/ir-7");
        assertThat(core.quarantineViews()).singleElement().satisfies(v -> {
            assertThat(v.workload()).isEqualTo("shop/checkout-1");
            assertThat(v.inForce()).isTrue();
            assertThat(v.origin()).isEqualTo("k8s:shop/Quarantine/ir-7");
        });
        // Its status says so, as every Septa kind's does (kubectl get quarantines shows Accepted).
        await().atMost(WAIT).untilAsserted(() -> assertThat(accepted("ir-7")).containsEntry("status", "True")
                .containsEntry("reason", "Accepted").containsEntry("message", "in force"));

        // A malformed one is a compile error named after it; the quarantine in force stays.
        create(KubernetesMeshSource.QUARANTINES, "{apiVersion: septa.dev/v1alpha1, kind: Quarantine, metadata: {name: bad, namespace: shop},"
                + " spec: {workload: web-1, reason: \"\"}}");
        // (Kubernetes mode compiles object by object: the bad one is set aside and reported on itself.)
        await().atMost(WAIT).untilAsserted(() -> assertThat(accepted("bad")).containsEntry("status", "False")
                .containsEntry("reason", "InvalidNotApplied")
                .hasEntrySatisfying("message", m -> assertThat((String) m).startsWith("k8s:shop/Quarantine/bad:").contains("invalid reason")));
        assertThat(new Checker(applied.get()).check(CHARGE)).hasToString("DENY quarantine:IR-7");
        assertThat(accepted("ir-7")).containsEntry("status", "True");
        client.genericKubernetesResources(KubernetesMeshSource.QUARANTINES).inNamespace("shop").withName("bad").delete();

        client.genericKubernetesResources(KubernetesMeshSource.QUARANTINES).inNamespace("shop").withName("ir-7").delete();
        await().atMost(WAIT).untilAsserted(() -> {
            Checker checker = new Checker(applied.get());
            assertThat(checker.check(CHARGE)).hasToString("ALLOW shop/pay");
            assertThat(checker.check(ORDER)).hasToString("ALLOW shop/order");
        });
        assertThat(events).last().isEqualTo("released shop/checkout-1");
    }

    /** The {@code Accepted} condition of Quarantine {@code name} as the API server holds it (empty if none yet). */
    @SuppressWarnings("unchecked")
    private java.util.Map<String, Object> accepted(String name) {
        GenericKubernetesResource r = client.genericKubernetesResources(KubernetesMeshSource.QUARANTINES).inNamespace("shop")
                .withName(name).get();
        if (!(r.getAdditionalProperties().get("status") instanceof java.util.Map<?, ?> status)
                || !(status.get("conditions") instanceof List<?> conditions)) {
            return java.util.Map.of();
        }
        return conditions.stream().map(c -> (java.util.Map<String, Object>) c)
                .filter(c -> CustomResourceStatusPublisher.ACCEPTED.equals(c.get("type"))).findFirst().orElse(java.util.Map.of());
    }

    private void create(io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext ctx, String yaml) throws Exception {
        GenericKubernetesResource r = YAML.readValue(yaml, GenericKubernetesResource.class);
        client.genericKubernetesResources(ctx).inNamespace("shop").resource(r).create();
    }

    private void createPod(String app, String ip) {
        Pod pod = new PodBuilder().withNewMetadata().withName(app + "-1").withNamespace("shop").addToLabels("app", app)
                .addToAnnotations(PodInjector.STATUS_ANNOTATION, "envoy").endMetadata()
                .withNewSpec().withServiceAccountName(app)
                .addNewContainer().withName("app").withImage("shop/" + app).addNewPort().withName("grpc").withContainerPort(8443)
                .withProtocol("TCP").endPort().endContainer().endSpec()
                .withNewStatus().withPhase("Running").withPodIP(ip).endStatus().build();
        Pod created = client.pods().inNamespace("shop").resource(pod).create();
        if (created.getStatus() == null || created.getStatus().getPodIP() == null) {
            created.setStatus(pod.getStatus());
            client.pods().inNamespace("shop").resource(created).updateStatus();
        }
    }
}
