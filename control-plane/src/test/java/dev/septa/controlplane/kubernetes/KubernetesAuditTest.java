package dev.septa.controlplane.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.google.gson.JsonObject;
import dev.septa.controlplane.ControlPlaneCore;
import dev.septa.controlplane.ControlPlaneMetrics;
import dev.septa.controlplane.ControlPlaneOptions;
import dev.septa.controlplane.audit.AuditLog;
import dev.septa.controlplane.audit.AuditTrail;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kubernetes mode's policy change records name the object, its resourceVersion and the field manager that last wrote
 * it (from managedFields), on fabric8's mock API server in CRUD mode.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesAuditTest {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    KubernetesClient client;
    @TempDir Path dir;

    static GenericKubernetesResource intent(String action, String manager, String time) throws Exception {
        GenericKubernetesResource r = YAML.readValue("""
                apiVersion: septa.dev/v1alpha1
                kind: Intent
                metadata: {name: checkout-may-charge, namespace: shop}
                spec:
                  action: %s
                  from: [{segment: checkout}]
                  to: {segment: payments}
                """.formatted(action), GenericKubernetesResource.class);
        r.getMetadata().setManagedFields(List.of(
                new ManagedFieldsEntryBuilder().withManager("kube-controller-manager").withOperation("Update")
                        .withTime("2026-11-01T00:00:00Z").build(),
                new ManagedFieldsEntryBuilder().withManager(manager).withOperation("Apply").withTime(time).build()));
        return r;
    }

    @Test
    void aChangedObjectIsRecordedWithItsResourceVersionAndItsLatestFieldManager() throws Exception {
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("shop")
                .addToLabels("septa.dev/inject", "enabled").endMetadata().build()).create();
        for (String segment : List.of("checkout", "payments")) {
            client.genericKubernetesResources(KubernetesMeshSource.SEGMENTS).inNamespace("shop").resource(YAML.readValue("""
                    apiVersion: septa.dev/v1alpha1
                    kind: Segment
                    metadata: {name: %s, namespace: shop}
                    spec: {selector: {matchLabels: {app: %s}}}
                    """.formatted(segment, segment), GenericKubernetesResource.class)).create();
        }
        var intents = client.genericKubernetesResources(KubernetesMeshSource.INTENTS).inNamespace("shop");
        intents.resource(intent("Allow", "kubectl-client-side-apply", "2026-12-01T09:00:00Z")).create();

        Path state = dir.resolve("state");
        try (KubernetesMode k8s = KubernetesMode.connect(client, Duration.ofSeconds(60));
             ControlPlaneCore core = new ControlPlaneCore(ControlPlaneOptions.builder().source(k8s.source()).stateDir(state)
                     .xdsHost("127.0.0.1").xdsPort(0).httpPort(0).debounce(Duration.ofMillis(50), Duration.ofMillis(500))
                     .pollInterval(Duration.ofHours(1)).build(), new ControlPlaneMetrics(new SimpleMeterRegistry()))) {
            core.start();
            k8s.attach(core, Duration.ofMillis(100), Duration.ofSeconds(2));
            String v1 = core.meshState().status().appliedInput();
            assertThat(v1).isNotNull();

            GenericKubernetesResource current = intents.withName("checkout-may-charge").get();
            GenericKubernetesResource edited = intent("Deny", "argocd-controller", "2026-12-01T10:00:00Z");
            edited.getMetadata().setResourceVersion(current.getMetadata().getResourceVersion());
            GenericKubernetesResource updated = intents.resource(edited).update();
            await().atMost(Duration.ofSeconds(30)).until(() -> !v1.equals(core.meshState().status().appliedInput()));
            assertThat(core.audit().awaitWritten(Duration.ofSeconds(30))).isTrue();

            AuditTrail.Result trail = AuditTrail.read(state.resolve(AuditLog.DIR));
            List<AuditTrail.Entry> changes = trail.entries().stream().filter(e -> e.kind().equals(AuditLog.POLICY_APPLIED)).toList();
            assertThat(changes).hasSize(2);
            AuditTrail.Entry start = changes.get(0);
            JsonObject created = start.json().getAsJsonArray("changed").asList().stream().map(e -> e.getAsJsonObject())
                    .filter(o -> o.has("kind") && o.get("kind").getAsString().equals("Intent")).findFirst().orElseThrow();
            assertThat(created.get("manager").getAsString()).isEqualTo("kubectl-client-side-apply");
            assertThat(created.get("resourceVersion").getAsString()).isEqualTo(current.getMetadata().getResourceVersion());

            AuditTrail.Entry change = changes.get(1);
            assertThat(change.text("version")).isEqualTo(core.meshState().status().appliedInput());
            assertThat(change.json().getAsJsonArray("changed")).singleElement().satisfies(e -> {
                JsonObject o = e.getAsJsonObject();
                assertThat(o.get("kind").getAsString()).isEqualTo("Intent");
                assertThat(o.get("namespace").getAsString()).isEqualTo("shop");
                assertThat(o.get("name").getAsString()).isEqualTo("checkout-may-charge");
                assertThat(o.get("change").getAsString()).isEqualTo("modified");
                assertThat(o.get("resourceVersion").getAsString()).isEqualTo(updated.getMetadata().getResourceVersion())
                        .isNotEqualTo(current.getMetadata().getResourceVersion());
                assertThat(o.get("manager").getAsString()).isEqualTo("argocd-controller");
                assertThat(o.get("operation").getAsString()).isEqualTo("Apply");
            });
        }
    }
}
