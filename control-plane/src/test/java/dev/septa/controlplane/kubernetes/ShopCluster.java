package dev.septa.controlplane.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.septa.sidecar.inject.PodInjector;
import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The shop example (examples/shop) as Kubernetes objects on a mock API server: CRDs, CRs, injected pods, services. */
final class ShopCluster {
    static final Path SHOP = Path.of("..", "examples", "shop").toAbsolutePath().normalize();
    static final Path CRDS = Path.of("..", "manifests", "crds").toAbsolutePath().normalize();
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private ShopCluster() {}

    /** manifests/crds as applied (status subresource included), then the shop's namespaces, policy and inventory. */
    static void create(KubernetesClient client) throws Exception {
        createCrds(client);
        for (String ns : List.of("shop", "monitoring")) {
            client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns)
                    .addToLabels("septa.dev/inject", "enabled").endMetadata().build()).create();
        }
        for (Path file : List.of("segments.yaml", "intents.yaml", "mesh.yaml").stream().map(SHOP.resolve("intents")::resolve).toList()) {
            for (JsonNode doc : documents(file)) {
                createCustomResource(client, YAML.convertValue(doc, GenericKubernetesResource.class));
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
                createPod(client, injectedPod(ns, name, labels, spec.path("serviceAccount").asText(), spec.path("address").asText(), ports));
            } else {
                Map<String, String> selector = YAML.convertValue(spec.path("selector"), YAML.getTypeFactory().constructMapType(Map.class, String.class, String.class));
                var ports = new ArrayList<io.fabric8.kubernetes.api.model.ServicePort>();
                spec.path("ports").forEach(p -> ports.add(new ServicePortBuilder().withName(p.path("name").asText())
                        .withPort(p.path("port").asInt()).withTargetPort(new IntOrString(p.path("port").asInt())).withProtocol("TCP").build()));
                client.services().inNamespace(ns).resource(new ServiceBuilder().withNewMetadata().withName(name).withNamespace(ns).endMetadata()
                        .withNewSpec().withSelector(selector).withPorts(ports).endSpec().build()).create();
            }
        }
    }

    /** manifests/crds as applied (status subresource and printer columns included). */
    static void createCrds(KubernetesClient client) throws Exception {
        try (var files = Files.list(CRDS)) {
            for (Path crd : files.sorted().toList()) {
                try (var in = Files.newInputStream(crd)) {
                    client.resource(client.apiextensions().v1().customResourceDefinitions().load(in).item()).create();
                }
            }
        }
    }

    static GenericKubernetesResource createCustomResource(KubernetesClient client, GenericKubernetesResource r) {
        var resources = client.genericKubernetesResources(KubernetesMeshSource.definition(r.getKind()));
        return r.getMetadata().getNamespace() != null ? resources.inNamespace(r.getMetadata().getNamespace()).resource(r).create()
                : resources.resource(r).create();
    }

    static GenericKubernetesResource customResource(String yaml) {
        try {
            return YAML.readValue(yaml, GenericKubernetesResource.class);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A pod as the webhook leaves it and the kubelet reports it: status annotation, IP, Running. */
    static Pod injectedPod(String ns, String name, Map<String, String> labels, String sa, String ip,
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

    static void createPod(KubernetesClient client, Pod pod) {
        Pod created = client.pods().inNamespace(pod.getMetadata().getNamespace()).resource(pod).create();
        if (created.getStatus() == null || created.getStatus().getPodIP() == null) {
            created.setStatus(pod.getStatus());
            client.pods().inNamespace(pod.getMetadata().getNamespace()).resource(created).updateStatus();
        }
    }

    static List<JsonNode> documents(Path file) throws Exception {
        List<JsonNode> docs = new ArrayList<>();
        try (var parser = YAML.getFactory().createParser(Files.readString(file))) {
            YAML.readValues(parser, JsonNode.class).forEachRemaining(docs::add);
        }
        return docs.stream().filter(n -> n != null && !n.isEmpty()).toList();
    }
}
