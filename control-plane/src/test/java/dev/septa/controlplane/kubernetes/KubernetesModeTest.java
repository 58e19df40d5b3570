package dev.septa.controlplane.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.septa.controlplane.ControlPlaneCore;
import dev.septa.controlplane.ControlPlaneMetrics;
import dev.septa.controlplane.ControlPlaneOptions;
import dev.septa.controlplane.publish.PolicyMeshCompilation;
import dev.septa.controlplane.files.LocalFileSource;
import dev.septa.policy.check.Checker;
import dev.septa.policy.check.Decision;
import dev.septa.policy.check.Query;
import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.sidecar.inject.PodInjector;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code septa serve --kubernetes} against fabric8's mock API server in CRUD mode: the shop example as custom
 * resources, pods and services compiles to exactly the mesh local mode compiles from examples/shop; watch events are
 * published; a bad Intent is reported by its name while the last good configuration stays; the trust bundle appears as
 * a ConfigMap in every injected namespace and follows the CA; the webhook's certificate verifies against the caBundle
 * the control plane wrote into manifests/webhook.yaml's configuration.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesModeTest {
    static final Path SHOP = Path.of("..", "examples", "shop").toAbsolutePath().normalize();
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static final Duration WAIT = Duration.ofSeconds(60);

    KubernetesClient client;
    @TempDir
    Path dir;

    KubernetesMode k8s;
    ControlPlaneCore core;
    final AtomicReference<CompiledMesh> applied = new AtomicReference<>();

    @BeforeEach
    void shopInTheCluster() throws Exception {
        for (String ns : List.of("shop", "monitoring")) {
            client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns)
                    .addToLabels("septa.dev/inject", "enabled").endMetadata().build()).create();
        }
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("other").endMetadata().build()).create();
        for (Path file : List.of("segments.yaml", "intents.yaml", "mesh.yaml").stream().map(SHOP.resolve("intents")::resolve).toList()) {
            for (JsonNode doc : documents(file)) {
                createCustomResource(YAML.convertValue(doc, GenericKubernetesResource.class));
            }
        }
        for (JsonNode doc : documents(SHOP.resolve("inventory.yaml"))) {
            var meta = doc.path("metadata");
            String ns = meta.path("namespace").asText();
            String name = meta.path("name").asText();
            Map<String, String> labels = YAML.convertValue(meta.path("labels"), YAML.getTypeFactory().constructMapType(Map.class, String.class, String.class));
            var spec = doc.path("spec");
            if (doc.path("kind").asText().equals("Workload")) {
                var ports = new ArrayList<io.fabric8.kubernetes.api.model.ContainerPort>();
                spec.path("ports").forEach(p -> ports.add(new ContainerPortBuilder().withName(p.path("name").asText())
                        .withContainerPort(p.path("port").asInt()).withProtocol("TCP").build()));
                createPod(injectedPod(ns, name, labels, spec.path("serviceAccount").asText(), spec.path("address").asText(), ports));
            } else {
                Map<String, String> selector = YAML.convertValue(spec.path("selector"), YAML.getTypeFactory().constructMapType(Map.class, String.class, String.class));
                var ports = new ArrayList<io.fabric8.kubernetes.api.model.ServicePort>();
                spec.path("ports").forEach(p -> ports.add(new ServicePortBuilder().withName(p.path("name").asText())
                        .withPort(p.path("port").asInt()).withTargetPort(new IntOrString(p.path("port").asInt())).withProtocol("TCP").build()));
                client.services().inNamespace(ns).resource(new ServiceBuilder().withNewMetadata().withName(name).withNamespace(ns).endMetadata()
                        .withNewSpec().withSelector(selector).withPorts(ports).endSpec().build()).create();
            }
        }
        // Not workloads of the mesh: a pod of a namespace without the label, and a shop pod the injector skipped.
        createPod(injectedPod("other", "outsider-1", Map.of("app", "catalog"), "default", "10.0.9.1", List.of()));
        Pod skipped = injectedPod("shop", "batch-1", Map.of("app", "catalog"), "batch", "10.0.9.2", List.of());
        skipped.getMetadata().getAnnotations().clear();
        createPod(skipped);

        k8s = KubernetesMode.connect(client, WAIT);
        core = new ControlPlaneCore(ControlPlaneOptions.builder().source(k8s.source()).stateDir(dir.resolve("state"))
                .xdsHost("127.0.0.1").xdsPort(0).httpPort(0)
                .debounce(Duration.ofMillis(50), Duration.ofMillis(500))
                // Far beyond any test: a change that is published came through a watch, not through the poll.
                .pollInterval(Duration.ofHours(1))
                .build(), new ControlPlaneMetrics(new SimpleMeterRegistry()));
        core.onMeshApplied(applied::set);
        core.start();
        k8s.attach(core, Duration.ofMillis(100), Duration.ofSeconds(2));
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
    void theClusterCompilesToTheMeshLocalModeCompilesFromTheExample() throws Exception {
        CompileResult local = new PolicyMeshCompilation().compile(
                new LocalFileSource(SHOP.resolve("intents"), SHOP.resolve("inventory.yaml")).read().files());
        assertThat(local.hasErrors()).isFalse();
        CompiledMesh expected = local.mesh().orElseThrow();
        assertThat(core.status().compile().ok()).as("%s", core.status().compile().errors()).isTrue();
        CompiledMesh actual = applied.get();

        assertThat(actual.proxies().keySet()).containsExactlyElementsOf(expected.proxies().keySet())
                .contains("shop/checkout-1", "monitoring/prometheus-1").doesNotContain("other/outsider-1", "shop/batch-1");
        assertThat(actual.proxies()).isEqualTo(expected.proxies());
        assertThat(actual.mesh().config()).isEqualTo(expected.mesh().config());

        Checker fromCluster = new Checker(actual);
        Checker fromFiles = new Checker(expected);
        List<Query> pairs = List.of(
                new Query("shop/storefront-1", "shop/checkout-1", 8443, "POST", "/shop.Checkout/PlaceOrder"),
                new Query("shop/storefront-1", "shop/payments-1", 8443, "POST", "/shop.Payments/Charge"),
                new Query("shop/checkout-1", "shop/payments-1", 8443, "POST", "/shop.Payments/Refund"),
                new Query("shop/checkout-1", "shop/catalog-2", 9090, "POST", "/shop.Catalog/Update"),
                new Query("monitoring/prometheus-1", "shop/catalog-1", 9090, "POST", "/grpc.health.v1.Health/Check"),
                new Query("monitoring/prometheus-1", "shop/payments-1", 8443, "POST", "/shop.Payments/Charge"));
        for (Query q : pairs) {
            assertThat(fromCluster.check(q)).as("%s", q).isEqualTo(fromFiles.check(q));
        }
        assertThat(fromCluster.check(pairs.get(0)).allowed()).isTrue();
        assertThat(fromCluster.check(pairs.get(1))).hasToString("DENY shop/storefront-never-pays");
        assertThat(fromCluster.check(pairs.get(3)).wouldDenyBy()).contains("shop/lock-catalog-writes");
        assertThat(k8s.source().read().files()).extracting(f -> f.name())
                .contains("k8s:shop/Intent/checkout-may-charge", "k8s:MeshConfig/mesh", "k8s:shop/Pod/catalog-2", "k8s:monitoring/Service/prometheus")
                .noneMatch(n -> n.startsWith("k8s:other/"));
    }

    @Test
    void watchEventsArePublished() {
        Query charge = new Query("shop/checkout-1", "shop/payments-1", 8443, "POST", "/shop.Payments/Charge");
        assertThat(new Checker(applied.get()).check(charge).allowed()).isTrue();
        var intents = client.genericKubernetesResources(KubernetesMeshSource.INTENTS).inNamespace("shop");
        GenericKubernetesResource intent = intents.withName("checkout-may-charge").get();
        intents.withName("checkout-may-charge").delete();
        await().atMost(WAIT).untilAsserted(() -> assertThat(new Checker(applied.get()).check(charge)).hasToString("DENY default"));

        intent.getMetadata().setResourceVersion(null);
        intent.getMetadata().setUid(null);
        intents.resource(intent).create();
        await().atMost(WAIT).untilAsserted(() -> assertThat(new Checker(applied.get()).check(charge)).hasToString("ALLOW shop/checkout-may-charge"));

        // A new pod is a new proxy; a pod going away removes it.
        createPod(injectedPod("shop", "catalog-3", Map.of("app", "catalog"), "catalog", "127.0.1.6",
                List.of(new ContainerPortBuilder().withName("grpc").withContainerPort(9090).build())));
        await().atMost(WAIT).untilAsserted(() -> assertThat(applied.get().proxies()).containsKey("shop/catalog-3"));
        assertThat(new Checker(applied.get()).check(new Query("shop/storefront-1", "shop/catalog-3", 9090, "POST", "/shop.Catalog/List")).allowed()).isTrue();
        client.pods().inNamespace("shop").withName("catalog-3").delete();
        await().atMost(WAIT).untilAsserted(() -> assertThat(applied.get().proxies()).doesNotContainKey("shop/catalog-3"));

        // A relabelled pod (same object, new resourceVersion) leaves its segment.
        Query browse = new Query("shop/storefront-1", "shop/catalog-2", 9090, "POST", "/shop.Catalog/List");
        assertThat(new Checker(applied.get()).check(browse).allowed()).isTrue();
        client.pods().inNamespace("shop").withName("catalog-2").edit(p -> new PodBuilder(p).editMetadata()
                .addToLabels("app", "retired").endMetadata().build());
        await().atMost(WAIT).untilAsserted(() -> assertThat(new Checker(applied.get()).check(browse)).hasToString("DENY default"));
    }

    @Test
    void aBadIntentIsReportedByItsNameAndTheLastGoodConfigurationStays() {
        CompiledMesh good = applied.get();
        String goodInput = core.status().compile().appliedInput();
        createCustomResource(intent("checkout-may-pay-twice", "Permit"));
        await().atMost(WAIT).untilAsserted(() -> assertThat(core.status().compile().ok()).isFalse());
        assertThat(core.status().compile().errors()).anySatisfy(e -> assertThat(e)
                .startsWith("k8s:shop/Intent/checkout-may-pay-twice:").contains("Permit"));
        assertThat(applied.get()).isSameAs(good);
        assertThat(core.status().compile().appliedInput()).isEqualTo(goodInput);
        assertThat(core.meshState().mesh().orElseThrow()).isSameAs(good.mesh());

        // Fixing it in place is picked up like any other edit.
        var intents = client.genericKubernetesResources(KubernetesMeshSource.INTENTS).inNamespace("shop");
        intents.withName("checkout-may-pay-twice").edit(r -> {
            r.setAdditionalProperty("spec", intent("checkout-may-pay-twice", "Allow").getAdditionalProperties().get("spec"));
            return r;
        });
        await().atMost(WAIT).untilAsserted(() -> assertThat(core.status().compile().ok()).isTrue());
        assertThat(applied.get()).isNotSameAs(good);
        assertThat(applied.get().mesh().intents()).anySatisfy(i -> assertThat(i.qualifiedName()).isEqualTo("shop/checkout-may-pay-twice"));
    }

    @Test
    void theTrustBundleIsPublishedInEveryInjectedNamespaceAndFollowsTheCa() {
        String bundle = core.certificates().trustBundlePem();
        assertThat(bundle).contains("BEGIN CERTIFICATE");
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(bundleIn("shop")).isEqualTo(bundle);
            assertThat(bundleIn("monitoring")).isEqualTo(bundle);
        });
        assertThat(client.configMaps().inNamespace("other").withName(TrustBundlePublisher.CONFIG_MAP).get()).isNull();
        String version = client.configMaps().inNamespace("shop").withName(TrustBundlePublisher.CONFIG_MAP).get().getMetadata().getResourceVersion();

        // A namespace that joins the mesh gets it; one deleted by hand comes back at the next resync.
        client.namespaces().withName("other").edit(n -> new NamespaceBuilder(n).editMetadata()
                .addToLabels("septa.dev/inject", "enabled").endMetadata().build());
        await().atMost(WAIT).untilAsserted(() -> assertThat(bundleIn("other")).isEqualTo(bundle));
        client.configMaps().inNamespace("monitoring").withName(TrustBundlePublisher.CONFIG_MAP).delete();
        await().atMost(WAIT).untilAsserted(() -> assertThat(bundleIn("monitoring")).isEqualTo(bundle));
        // Idempotent: resyncs that found it equal did not write it again.
        assertThat(client.configMaps().inNamespace("shop").withName(TrustBundlePublisher.CONFIG_MAP).get().getMetadata().getResourceVersion())
                .isEqualTo(version);

        // Stage 1 of a root rotation puts the successor's root in the bundle: every ConfigMap follows.
        assertThat(core.requestRootRotation()).isInstanceOf(ControlPlaneCore.RotationRequest.Accepted.class);
        await().atMost(WAIT).until(() -> !core.certificates().trustBundlePem().equals(bundle));
        String extended = core.certificates().trustBundlePem();
        assertThat(extended.split("BEGIN CERTIFICATE", -1)).hasSizeGreaterThan(bundle.split("BEGIN CERTIFICATE", -1).length);
        await().atMost(WAIT).untilAsserted(() -> {
            for (String ns : List.of("shop", "monitoring", "other")) {
                assertThat(bundleIn(ns)).as(ns).isEqualTo(core.certificates().trustBundlePem());
            }
        });
    }

    @Test
    void theWebhookServesACertificateThatItsPublishedCaBundleVerifies() throws Exception {
        try (var in = Files.newInputStream(Path.of("..", "manifests", "webhook.yaml"))) {
            client.resource(client.admissionRegistration().v1().mutatingWebhookConfigurations().load(in).item()).create();
        }
        var webhook = k8s.serveWebhook(core, new java.net.InetSocketAddress("127.0.0.1", 0), Duration.ofMillis(100), Duration.ofSeconds(2),
                settings -> settings.withProxyImage("registry.example/envoy:test")); // septa serve --proxy-image
        var configs = client.admissionRegistration().v1().mutatingWebhookConfigurations().withName(WebhookCaBundlePublisher.CONFIGURATION);
        await().atMost(WAIT).until(() -> configs.get().getWebhooks().getFirst().getClientConfig().getCaBundle() != null);
        String caBundle = new String(java.util.Base64.getDecoder().decode(configs.get().getWebhooks().getFirst().getClientConfig().getCaBundle()),
                java.nio.charset.StandardCharsets.UTF_8);
        assertThat(caBundle).isEqualTo(core.certificates().trustBundlePem());

        // As the API server calls it: by the Service's name, trusting exactly the caBundle it read from the object.
        var roots = java.security.KeyStore.getInstance("PKCS12");
        roots.load(null, null);
        int i = 0;
        for (var root : dev.septa.identity.PemReader.certificates(caBundle, "caBundle")) {
            roots.setCertificateEntry("root-" + i++, root);
        }
        var tmf = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(roots);
        var tls = javax.net.ssl.SSLContext.getInstance("TLS");
        tls.init(null, tmf.getTrustManagers(), null);
        String review;
        try (var in = KubernetesModeTest.class.getResourceAsStream("/admission/deployment-pod-create.json")) {
            review = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        var response = java.net.http.HttpClient.newBuilder().sslContext(tls).build().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("https://septa.septa-system.svc:" + webhook.port() + "/inject"))
                        .timeout(WAIT).header("Content-Type", "application/json")
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(review)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        var expected = new dev.septa.controlplane.kubernetes.admission.AdmissionReviewHandler(new PodInjector(
                dev.septa.sidecar.inject.InjectionSettings.defaults("cluster.local").withProxyImage("registry.example/envoy:test")))
                .handle(review);
        assertThat(YAML.readTree(response.body())).isEqualTo(YAML.readTree(expected));
        String patch = new String(java.util.Base64.getDecoder().decode(YAML.readTree(response.body()).path("response").path("patch").asText()),
                java.nio.charset.StandardCharsets.UTF_8);
        assertThat(patch).contains("registry.example/envoy:test");
        assertThat(response.body()).contains("\"patchType\":\"JSONPatch\"");

        // Root rotation stage 1 extends the bundle: the caBundle follows.
        assertThat(core.requestRootRotation()).isInstanceOf(ControlPlaneCore.RotationRequest.Accepted.class);
        await().atMost(WAIT).until(() -> !core.certificates().trustBundlePem().equals(caBundle));
        await().atMost(WAIT).until(() -> java.util.Base64.getEncoder().encodeToString(
                        core.certificates().trustBundlePem().getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .equals(configs.get().getWebhooks().getFirst().getClientConfig().getCaBundle()));
    }

    private String bundleIn(String ns) {
        ConfigMap cm = client.configMaps().inNamespace(ns).withName(TrustBundlePublisher.CONFIG_MAP).get();
        return cm == null || cm.getData() == null ? null : cm.getData().get(TrustBundlePublisher.KEY);
    }

    private static GenericKubernetesResource intent(String name, String action) {
        try {
            return YAML.readValue("""
                    apiVersion: septa.dev/v1alpha1
                    kind: Intent
                    metadata: {name: %s, namespace: shop}
                    spec:
                      action: %s
                      from: [{segment: checkout}]
                      to: {segment: payments}
                    """.formatted(name, action), GenericKubernetesResource.class);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void createCustomResource(GenericKubernetesResource r) {
        ResourceDefinitionContext ctx = switch (r.getKind()) {
            case "Intent" -> KubernetesMeshSource.INTENTS;
            case "Segment" -> KubernetesMeshSource.SEGMENTS;
            default -> KubernetesMeshSource.MESH_CONFIGS;
        };
        var resources = client.genericKubernetesResources(ctx);
        if (r.getMetadata().getNamespace() != null) {
            resources.inNamespace(r.getMetadata().getNamespace()).resource(r).create();
        } else {
            resources.resource(r).create();
        }
    }

    /** A pod as the webhook leaves it and the kubelet reports it: status annotation, IP, Running. */
    private static Pod injectedPod(String ns, String name, Map<String, String> labels, String sa, String ip,
                                   List<io.fabric8.kubernetes.api.model.ContainerPort> ports) {
        return new PodBuilder().withNewMetadata().withName(name).withNamespace(ns).withLabels(labels)
                .addToAnnotations(PodInjector.STATUS_ANNOTATION, "envoy").addToLabels("pod-template-hash", "7d9f8c6b5").endMetadata()
                .withNewSpec().withServiceAccountName(sa)
                .addNewContainer().withName("app").withImage("shop/" + name).withPorts(ports).endContainer()
                .addNewInitContainer().withName("septa-proxy").withImage("envoyproxy/envoy").withRestartPolicy("Always")
                .addNewPort().withName("http-envoy-prom").withContainerPort(15090).endPort().endInitContainer()
                .endSpec()
                .withNewStatus().withPhase("Running").withPodIP(ip).endStatus().build();
    }

    private void createPod(Pod pod) {
        Pod created = client.pods().inNamespace(pod.getMetadata().getNamespace()).resource(pod).create();
        if (created.getStatus() == null || created.getStatus().getPodIP() == null) {
            created.setStatus(pod.getStatus());
            client.pods().inNamespace(pod.getMetadata().getNamespace()).resource(created).updateStatus();
        }
    }

    private static List<JsonNode> documents(Path file) throws Exception {
        List<JsonNode> docs = new ArrayList<>();
        try (var parser = YAML.getFactory().createParser(Files.readString(file))) {
            YAML.readValues(parser, JsonNode.class).forEachRemaining(docs::add);
        }
        return docs.stream().filter(n -> n != null && !n.isEmpty()).toList();
    }
}
