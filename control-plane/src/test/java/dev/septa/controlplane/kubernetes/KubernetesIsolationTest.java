package dev.septa.controlplane.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.septa.controlplane.ControlPlaneCore;
import dev.septa.controlplane.ControlPlaneMetrics;
import dev.septa.controlplane.ControlPlaneOptions;
import dev.septa.policy.check.Checker;
import dev.septa.policy.check.Query;
import dev.septa.policy.compile.CompiledMesh;
import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kubernetes mode on fabric8's mock API server (CRUD, manifests/crds applied): one broken custom resource is set aside
 * on its own while the rest of the cluster keeps compiling and being pushed, nothing opens by it, and every CR's
 * {@code status} says what became of it ({@code Accepted}, the error as {@code k8s:NS/Intent/NAME:line:col: ...},
 * {@code observedGeneration}, the workloads an Intent selects), written only when it differs.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesIsolationTest {
    static final Duration WAIT = Duration.ofSeconds(60);
    static final Query STOREFRONT_PAYS = new Query("shop/storefront-1", "shop/payments-1", 8443, "POST", "/shop.Payments/Charge");

    KubernetesClient client;
    @TempDir
    Path dir;
    KubernetesMode k8s;
    ControlPlaneCore core;
    final AtomicReference<CompiledMesh> applied = new AtomicReference<>();
    final AtomicBoolean leader = new AtomicBoolean(true);

    @BeforeEach
    void shopInTheCluster() throws Exception {
        ShopCluster.create(client);
        // Without the Deny, this Allow would let the storefront reach payments: what losing the Deny would open.
        ShopCluster.createCustomResource(client, ShopCluster.customResource("""
                apiVersion: septa.dev/v1alpha1
                kind: Intent
                metadata: {name: storefront-reaches-all, namespace: shop}
                spec:
                  action: Allow
                  from: [{segment: storefront}]
                  to: {segment: everything, ports: [{port: 8443}]}
                """));
        k8s = KubernetesMode.connect(client, WAIT).writeOnlyWhile(leader::get);
        core = new ControlPlaneCore(ControlPlaneOptions.builder().source(k8s.source()).compilation(k8s.compilation())
                .stateDir(dir.resolve("state")).xdsHost("127.0.0.1").xdsPort(0).httpPort(0)
                .debounce(Duration.ofMillis(50), Duration.ofMillis(500)).pollInterval(Duration.ofHours(1))
                .build(), new ControlPlaneMetrics(new SimpleMeterRegistry()));
        core.onMeshApplied(applied::set);
        core.start();
        k8s.attach(core, Duration.ofMillis(100), Duration.ofMillis(500));
        assertThat(new Checker(applied.get()).check(STOREFRONT_PAYS)).hasToString("DENY shop/storefront-never-pays");
    }

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
    void aBrokenDenyIntentKeepsDenyingWhileNewPodsAndOtherEditsAreStillPushed() {
        var intents = client.genericKubernetesResources(KubernetesMeshSource.INTENTS).inNamespace("shop");
        intents.withName("storefront-never-pays").edit(r -> withSpec(r, Map.of("action", "Permit",
                "from", List.of(Map.of("segment", "storefront")), "to", Map.of("segment", "payments"))));
        ShopCluster.createPod(client, ShopCluster.injectedPod("shop", "payments-2", Map.of("app", "payments", "tier", "backend"),
                "payments", "127.0.1.9", List.of(new ContainerPortBuilder().withName("grpc").withContainerPort(8443).build())));

        await().atMost(WAIT).untilAsserted(() -> assertThat(applied.get().proxies()).containsKey("shop/payments-2"));
        Checker checker = new Checker(applied.get());
        assertThat(checker.check(STOREFRONT_PAYS)).hasToString("DENY shop/storefront-never-pays");
        assertThat(checker.check(new Query("shop/storefront-1", "shop/payments-2", 8443, "POST", "/x"))).hasToString("DENY shop/storefront-never-pays");
        assertThat(core.status().compile().ok()).isTrue();
        assertThat(core.status().compile().warnings()).anySatisfy(w -> assertThat(w)
                .startsWith("k8s:shop/Intent/storefront-never-pays:").contains("set aside, its last valid version stays in force").contains("Permit"));

        await().atMost(WAIT).untilAsserted(() -> {
            Map<String, Object> accepted = accepted("storefront-never-pays");
            assertThat(accepted).containsEntry("status", "False").containsEntry("reason", "InvalidLastValidInForce");
            assertThat((String) accepted.get("message")).matches("k8s:shop/Intent/storefront-never-pays:\\d+:\\d+: .*Permit.*");
        });
        GenericKubernetesResource broken = intents.withName("storefront-never-pays").get();
        assertThat(status(broken).get("observedGeneration")).isEqualTo(broken.getMetadata().getGeneration().intValue());
        // The others are accepted, and say whom they select on each side (payments-2 joined the target).
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(accepted("checkout-may-charge")).containsEntry("status", "True");
            assertThat(status(intents.withName("checkout-may-charge").get())).containsEntry("selectedWorkloads", Map.of("from", 1, "to", 2));
        });
    }

    @Test
    void anIntentThatWasNeverValidIsNotAppliedUntilFixedAndStatusIsWrittenOnlyWhenItDiffers() throws Exception {
        var intents = client.genericKubernetesResources(KubernetesMeshSource.INTENTS).inNamespace("shop");
        ShopCluster.createCustomResource(client, ShopCluster.customResource("""
                apiVersion: septa.dev/v1alpha1
                kind: Intent
                metadata: {name: storefront-may-pay, namespace: shop}
                spec:
                  action: Allow
                  from: [{segment: storefront}]
                  to: {segment: paymnts}
                """));
        await().atMost(WAIT).untilAsserted(() -> assertThat(accepted("storefront-may-pay"))
                .containsEntry("status", "False").containsEntry("reason", "InvalidNotApplied"));
        assertThat((String) accepted("storefront-may-pay").get("message")).startsWith("k8s:shop/Intent/storefront-may-pay:")
                .contains("paymnts").contains("does not exist");
        assertThat(applied.get().mesh().intents()).noneSatisfy(i -> assertThat(i.qualifiedName()).isEqualTo("shop/storefront-may-pay"));
        // What `kubectl get intents` shows: the CRD's printer columns evaluated on the object as the API server holds it.
        Map<String, String> columns = printerColumns("intents.septa.dev.yaml", intents.withName("storefront-may-pay").get());
        assertThat(columns).containsEntry("Accepted", "False").containsEntry("Action", "Allow").containsEntry("To", "paymnts");
        assertThat(columns.get("Message")).isEqualTo(accepted("storefront-may-pay").get("message"));

        // Resyncs (every 500 ms here) find every status equal: nothing is written again.
        String version = intents.withName("storefront-may-pay").get().getMetadata().getResourceVersion();
        long writes = k8s.statuses().writes();
        Thread.sleep(2_000);
        assertThat(intents.withName("storefront-may-pay").get().getMetadata().getResourceVersion()).isEqualTo(version);
        assertThat(k8s.statuses().writes()).isEqualTo(writes);

        // A replica that may not write (not the leader) writes nothing, even when there is something to say.
        leader.set(false);
        intents.withName("storefront-may-pay").edit(r -> withSpec(r, Map.of("action", "Allow",
                "from", List.of(Map.of("segment", "storefront")), "to", Map.of("segment", "payments"))));
        await().atMost(WAIT).until(() -> applied.get().mesh().intents().stream().anyMatch(i -> i.qualifiedName().equals("shop/storefront-may-pay")));
        Thread.sleep(1_500);
        assertThat(k8s.statuses().writes()).isEqualTo(writes);
        assertThat(accepted("storefront-may-pay")).containsEntry("status", "False");

        leader.set(true);
        await().atMost(WAIT).untilAsserted(() -> assertThat(accepted("storefront-may-pay"))
                .containsEntry("status", "True").containsEntry("reason", "Accepted"));
        assertThat(printerColumns("intents.septa.dev.yaml", intents.withName("storefront-may-pay").get()))
                .containsEntry("Accepted", "True").containsEntry("Message", accepted("storefront-may-pay").get("message").toString());
        // The Deny still decides over the new Allow: fixing an intent never opens what a Deny closes.
        assertThat(new Checker(applied.get()).check(STOREFRONT_PAYS)).hasToString("DENY shop/storefront-never-pays");
    }

    /** Every additionalPrinterColumn of the CRD in manifests/crds/{@code crdFile}, evaluated on {@code r} (values joined by ","). */
    static Map<String, String> printerColumns(String crdFile, GenericKubernetesResource r) throws Exception {
        JsonNode crd = ShopCluster.YAML.readTree(ShopCluster.CRDS.resolve(crdFile).toFile());
        JsonNode object = ShopCluster.YAML.valueToTree(r);
        Map<String, String> out = new java.util.LinkedHashMap<>();
        for (JsonNode column : crd.path("spec").path("versions").get(0).path("additionalPrinterColumns")) {
            out.put(column.path("name").asText(), String.join(",", jsonPath(object, column.path("jsonPath").asText()).stream()
                    .map(JsonNode::asText).toList()));
        }
        return out;
    }

    /** kubectl's JSONPath in the two forms the CRDs' columns use: {@code .a.b} and {@code .a[?(@.k=="v")].b}. */
    static List<JsonNode> jsonPath(JsonNode root, String path) {
        var step = java.util.regex.Pattern.compile("\\.([A-Za-z]+)|\\[\\?\\(@\\.([A-Za-z]+)==\"([^\"]*)\"\\)]").matcher(path);
        List<JsonNode> current = List.of(root);
        for (int at = 0; at < path.length(); at = step.end()) {
            if (!step.find(at) || step.start() != at) {
                throw new IllegalArgumentException("JSONPath form not evaluated here: " + path + " at " + at);
            }
            List<JsonNode> next = new java.util.ArrayList<>();
            for (JsonNode node : current) {
                if (step.group(1) != null) {
                    if (node.has(step.group(1))) {
                        next.add(node.get(step.group(1)));
                    }
                } else {
                    node.forEach(e -> {
                        if (step.group(3).equals(e.path(step.group(2)).asText(null))) {
                            next.add(e);
                        }
                    });
                }
            }
            current = next;
        }
        return current;
    }

    private static GenericKubernetesResource withSpec(GenericKubernetesResource r, Map<String, Object> spec) {
        r.setAdditionalProperty("spec", spec);
        return r;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> status(GenericKubernetesResource r) {
        Object s = r.getAdditionalProperties().get("status");
        return s instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> accepted(String intent) {
        var r = client.genericKubernetesResources(KubernetesMeshSource.INTENTS).inNamespace("shop").withName(intent).get();
        Object conditions = status(r).get("conditions");
        if (!(conditions instanceof List<?> list)) {
            return Map.of();
        }
        return list.stream().map(c -> (Map<String, Object>) c).filter(c -> "Accepted".equals(c.get("type"))).findFirst().orElse(Map.of());
    }
}
