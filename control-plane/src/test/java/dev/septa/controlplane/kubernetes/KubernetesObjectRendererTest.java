package dev.septa.controlplane.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.policy.parse.InputFile;
import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.model.Protocol;
import dev.septa.policy.model.Workload;
import dev.septa.policy.model.WorkloadPort;
import dev.septa.policy.parse.MeshParser;
import dev.septa.policy.parse.ParseResult;
import dev.septa.sidecar.inject.PodInjector;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What each Kubernetes object turns into, read back by the compiler's own parser. */
class KubernetesObjectRendererTest {

    @Test
    void aPodBecomesAWorkloadWithItsAppPortsAndTheirProtocols() {
        Pod pod = pod("api-7d9f8-x2x", "10.1.2.3");
        InputFile file = KubernetesObjectRenderer.workload(pod);
        assertThat(file.name()).isEqualTo("k8s:shop/Pod/api-7d9f8-x2x");

        Workload w = parse(file).mesh().workloads().getFirst();
        assertThat(w.id()).isEqualTo("shop/api-7d9f8-x2x");
        assertThat(w.serviceAccount()).isEqualTo("api");
        assertThat(w.address()).isEqualTo("10.1.2.3");
        assertThat(w.metadata().labels()).containsEntry("app", "api").containsEntry("app.kubernetes.io/version", "1.2");
        // UDP and the injected proxy's ports are left out; the native sidecar of the app is in; an unnamed port is TCP, undeclared
        assertThat(w.ports()).containsExactlyInAnyOrder(
                new WorkloadPort("grpc-api", 8443, Protocol.GRPC, true),
                new WorkloadPort("http-admin", 8081, Protocol.HTTP, true),
                new WorkloadPort("", 7000, Protocol.TCP, false),
                new WorkloadPort("http2-cache", 9000, Protocol.HTTP, true));
    }

    @Test
    void labelValuesThatLookLikeOtherYamlTypesStayStrings() {
        Map<String, String> labels = Map.of("flag", "true", "count", "0123", "empty", "", "yes", "yes", "none", "null",
                "float", "1e3", "app.kubernetes.io/name", "api", "hash", "7d9f8c6b5", "colon", "a:b");
        Pod pod = new PodBuilder(pod("p", "10.0.0.1")).editMetadata().withLabels(labels)
                .addToAnnotations(PodInjector.STATUS_ANNOTATION, "envoy").endMetadata().build();
        ParseResult parsed = parse(KubernetesObjectRenderer.workload(pod));
        assertThat(parsed.diagnostics()).filteredOn(Diagnostic::isError).isEmpty();
        assertThat(parsed.mesh().workloads().getFirst().metadata().labels()).isEqualTo(labels);
    }

    @Test
    void onlyInjectedRunningPodsWithAnAddressAreWorkloads() {
        assertThat(KubernetesObjectRenderer.isMeshWorkload(pod("a", "10.0.0.1"))).isTrue();
        assertThat(KubernetesObjectRenderer.isMeshWorkload(pod("a", null))).as("pending, no IP yet").isFalse();
        assertThat(KubernetesObjectRenderer.isMeshWorkload(new PodBuilder(pod("a", "10.0.0.1")).editMetadata()
                .withAnnotations(Map.of()).endMetadata().build())).as("not injected").isFalse();
        assertThat(KubernetesObjectRenderer.isMeshWorkload(new PodBuilder(pod("a", "10.0.0.1")).editStatus()
                .withPhase("Succeeded").endStatus().build())).as("finished").isFalse();
        assertThat(KubernetesObjectRenderer.isMeshWorkload(new PodBuilder(pod("a", "10.0.0.1")).editMetadata()
                .withDeletionTimestamp("2026-11-25T00:00:00Z").endMetadata().build())).as("terminating").isFalse();
        assertThat(KubernetesObjectRenderer.isMeshWorkload(new PodBuilder(pod("a", "10.0.0.1")).editSpec()
                .withHostNetwork(true).endSpec().build())).as("hostNetwork").isFalse();
    }

    @Test
    void aServicePortIsItsTargetPortResolvedAgainstTheSelectedPods() {
        Service svc = new ServiceBuilder().withNewMetadata().withName("api").withNamespace("shop").endMetadata()
                .withNewSpec().withSelector(Map.of("app", "api"))
                .addNewPort().withName("grpc").withPort(443).withTargetPort(new IntOrString("grpc-api")).endPort()
                .addNewPort().withName("web").withAppProtocol("http").withPort(80).withTargetPort(new IntOrString(8081)).endPort()
                .addNewPort().withName("dns").withProtocol("UDP").withPort(53).endPort()
                .addNewPort().withName("missing").withPort(1234).withTargetPort(new IntOrString("nobody-has-it")).endPort()
                .endSpec().build();
        InputFile file = KubernetesObjectRenderer.service(svc, List.of(pod("api-1", "10.0.0.1"))).orElseThrow();
        assertThat(file.name()).isEqualTo("k8s:shop/Service/api");
        var parsed = parse(file).mesh().services().getFirst();
        assertThat(parsed.selector()).isEqualTo(Map.of("app", "api"));
        assertThat(parsed.ports()).containsExactly(new WorkloadPort("grpc", 8443, Protocol.GRPC, true),
                new WorkloadPort("web", 8081, Protocol.HTTP, true));

        Service headlessOfHand = new ServiceBuilder(svc).editSpec().withSelector(Map.of()).endSpec().build();
        assertThat(KubernetesObjectRenderer.service(headlessOfHand, List.of())).as("no selector: endpoints by hand").isEmpty();
    }

    @Test
    void aCustomResourceKeepsItsSpecAndOnlyThePolicyPartsOfItsMetadata() {
        var intent = new GenericKubernetesResourceBuilder().withApiVersion("septa.dev/v1alpha1").withKind("Intent")
                .withNewMetadata().withName("checkout-may-charge").withNamespace("shop").withUid("0b9e").withResourceVersion("42")
                .addToAnnotations("kubectl.kubernetes.io/last-applied-configuration", "{}").addToLabels("team", "payments")
                .withManagedFields(List.of()).endMetadata()
                .addToAdditionalProperties("spec", Map.of("action", "Deny", "from", List.of(Map.of("segment", "checkout")),
                        "to", Map.of("segment", "payments")))
                .addToAdditionalProperties("status", Map.of("observedGeneration", 3)).build();
        InputFile file = KubernetesObjectRenderer.customResource(intent);
        assertThat(file.name()).isEqualTo("k8s:shop/Intent/checkout-may-charge");
        assertThat(file.text()).doesNotContain("uid", "resourceVersion", "last-applied", "status");
        ParseResult parsed = parse(file);
        assertThat(parsed.mesh().intents()).singleElement().satisfies(i -> {
            assertThat(i.qualifiedName()).isEqualTo("shop/checkout-may-charge");
            assertThat(i.action().name()).isEqualTo("DENY");
        });

        var mesh = new GenericKubernetesResourceBuilder().withApiVersion("septa.dev/v1alpha1").withKind("MeshConfig")
                .withNewMetadata().withName("mesh").endMetadata().addToAdditionalProperties("spec", Map.of("trustDomain", "example.org")).build();
        InputFile meshFile = KubernetesObjectRenderer.customResource(mesh);
        assertThat(meshFile.name()).isEqualTo("k8s:MeshConfig/mesh");
        assertThat(parse(meshFile).mesh().config().trustDomain()).isEqualTo("example.org");
    }

    @Test
    void anErrorInACustomResourcePointsAtTheObjectAndItsField() {
        var intent = new GenericKubernetesResourceBuilder().withApiVersion("septa.dev/v1alpha1").withKind("Intent")
                .withNewMetadata().withName("typo").withNamespace("shop").endMetadata()
                .addToAdditionalProperties("spec", Map.of("action", "Allow", "form", List.of(Map.of("segment", "checkout")),
                        "to", Map.of("segment", "payments"))).build();
        ParseResult parsed = parse(KubernetesObjectRenderer.customResource(intent));
        assertThat(parsed.diagnostics()).filteredOn(Diagnostic::isError).isNotEmpty()
                .allSatisfy(d -> assertThat(d.toString()).matches("k8s:shop/Intent/typo:\\d+:\\d+: error: .*"))
                .anySatisfy(d -> assertThat(d.toString()).contains("form"));
    }

    @Test
    void protocolsFollowAppProtocolThenThePortNamesPrefix() {
        assertThat(KubernetesObjectRenderer.protocolOf("grpc", null)).isEqualTo("GRPC");
        assertThat(KubernetesObjectRenderer.protocolOf("grpc-web", null)).isEqualTo("GRPC");
        assertThat(KubernetesObjectRenderer.protocolOf("http-metrics", null)).isEqualTo("HTTP");
        assertThat(KubernetesObjectRenderer.protocolOf("tcp-db", null)).isEqualTo("TCP");
        assertThat(KubernetesObjectRenderer.protocolOf("metrics", null)).isNull();
        assertThat(KubernetesObjectRenderer.protocolOf("metrics", "kubernetes.io/h2c")).isEqualTo("HTTP");
        assertThat(KubernetesObjectRenderer.protocolOf("http", "grpc")).isEqualTo("GRPC");
        assertThat(KubernetesObjectRenderer.protocolOf(null, null)).isNull();
    }

    private static Pod pod(String name, String ip) {
        return new PodBuilder().withNewMetadata().withName(name).withNamespace("shop")
                .addToLabels("app", "api").addToLabels("app.kubernetes.io/version", "1.2")
                .addToAnnotations(PodInjector.STATUS_ANNOTATION, "envoy").endMetadata()
                .withNewSpec().withServiceAccountName("api")
                .addNewInitContainer().withName("septa-init").withImage("septa").endInitContainer()
                .addNewInitContainer().withName("septa-proxy").withImage("envoy").withRestartPolicy("Always")
                .addNewPort().withName("http-envoy-prom").withContainerPort(15090).endPort().endInitContainer()
                .addNewInitContainer().withName("cache").withImage("redis").withRestartPolicy("Always")
                .addNewPort().withName("http2-cache").withContainerPort(9000).endPort().endInitContainer()
                .addNewContainer().withName("api").withImage("api")
                .addNewPort().withName("grpc-api").withContainerPort(8443).endPort()
                .addNewPort().withName("http-admin").withContainerPort(8081).withProtocol("TCP").endPort()
                .addNewPort().withContainerPort(7000).endPort()
                .addNewPort().withName("statsd").withContainerPort(8125).withProtocol("UDP").endPort()
                .endContainer().endSpec()
                .withNewStatus().withPhase("Running").withPodIP(ip).endStatus().build();
    }

    private static ParseResult parse(InputFile file) {
        ParseResult result = MeshParser.parse(List.of(new dev.septa.policy.parse.InputFile(file.name(), file.text())));
        return result;
    }
}
