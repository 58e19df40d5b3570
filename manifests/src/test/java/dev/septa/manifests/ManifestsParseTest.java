package dev.septa.manifests;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.sidecar.inject.InjectionSettings;
import dev.septa.sidecar.inject.PodInjector;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Every manifest parses into fabric8's typed model; the kustomization lists them all; their contents agree with the injector. */
class ManifestsParseTest {
    private static final KubernetesClient CLIENT = new KubernetesClientBuilder().build(); // load() only, never connects

    @AfterAll
    static void close() {
        CLIENT.close();
    }

    private static List<HasMetadata> all() throws Exception {
        List<HasMetadata> all = new ArrayList<>();
        for (Path file : Manifests.files()) {
            try (InputStream in = new FileInputStream(file.toFile())) {
                all.addAll(CLIENT.load(in).items());
            }
        }
        return all;
    }

    private static <T> List<T> of(List<HasMetadata> all, Class<T> type) {
        return all.stream().filter(type::isInstance).map(type::cast).toList();
    }

    @Test
    void everyFileParsesIntoTypedObjectsAndTheKustomizationListsThemAll() throws Exception {
        List<HasMetadata> all = all();
        assertThat(all).extracting(HasMetadata::getKind).containsExactlyInAnyOrder(
                "CustomResourceDefinition", "CustomResourceDefinition", "CustomResourceDefinition", "CustomResourceDefinition", "Deployment", "Namespace",
                "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ServiceAccount", "Service", "MutatingWebhookConfiguration", "PodDisruptionBudget");
        assertThat(all).noneMatch(r -> r.getClass() == io.fabric8.kubernetes.api.model.GenericKubernetesResource.class);

        var kustomization = Manifests.yaml(Manifests.DIR.resolve("kustomization.yaml")).getFirst();
        List<String> listed = new ArrayList<>();
        kustomization.path("resources").forEach(r -> listed.add(r.asText()));
        assertThat(listed).containsExactlyInAnyOrderElementsOf(
                Manifests.files().stream().map(p -> Manifests.DIR.relativize(p).toString()).toList());
    }

    @Test
    void theInjectorsDefaultsNameWhatTheManifestsCreate() throws Exception {
        List<HasMetadata> all = all();
        var settings = InjectionSettings.defaults("cluster.local");
        Service service = of(all, Service.class).getFirst();
        assertThat(service.getMetadata().getName() + "." + service.getMetadata().getNamespace() + ".svc").isEqualTo(settings.xdsHost());
        assertThat(service.getSpec().getPorts()).anySatisfy(p -> assertThat(p.getPort()).isEqualTo(settings.xdsPort()));
        ServiceAccount account = of(all, ServiceAccount.class).getFirst();
        assertThat(settings.controlPlaneSpiffeId()).endsWith("/ns/" + account.getMetadata().getNamespace() + "/sa/" + account.getMetadata().getName());
        Deployment deployment = of(all, Deployment.class).getFirst();
        assertThat(deployment.getSpec().getTemplate().getSpec().getServiceAccountName()).isEqualTo(account.getMetadata().getName());
        assertThat(deployment.getSpec().getTemplate().getMetadata().getAnnotations()).containsEntry(PodInjector.INJECT_ANNOTATION, "false");
        assertThat(deployment.getSpec().getTemplate().getSpec().getContainers().getFirst().getArgs()).containsSequence("serve", "--kubernetes");
        assertThat(of(all, Namespace.class).getFirst().getMetadata().getLabels()).containsEntry("septa.dev/inject", "disabled");
    }

    @Test
    void theWebhookSelectsOptedInNamespacesAndFailsClosed() throws Exception {
        var webhook = of(all(), MutatingWebhookConfiguration.class).getFirst().getWebhooks().getFirst();
        assertThat(webhook.getNamespaceSelector().getMatchLabels()).containsExactlyEntriesOf(java.util.Map.of("septa.dev/inject", "enabled"));
        assertThat(webhook.getFailurePolicy()).isEqualTo("Fail");
        assertThat(webhook.getSideEffects()).isEqualTo("None");
        assertThat(webhook.getAdmissionReviewVersions()).containsExactly("v1");
        assertThat(webhook.getRules()).singleElement().satisfies(rule -> {
            assertThat(rule.getOperations()).containsExactly("CREATE");
            assertThat(rule.getResources()).containsExactly("pods");
        });
        assertThat(webhook.getClientConfig().getService().getName()).isEqualTo("septa");
        // What `septa serve --kubernetes` serves (WebhookServer: /inject on 15443) behind Service port 443; the
        // control plane fills caBundle, so the manifest carries none (an apply must not pin an old CA).
        assertThat(webhook.getClientConfig().getService().getPath()).isEqualTo("/inject");
        assertThat(webhook.getClientConfig().getService().getPort()).isEqualTo(443);
        assertThat(webhook.getClientConfig().getCaBundle()).isNull();
        List<HasMetadata> all = all();
        var servicePort = of(all, Service.class).getFirst().getSpec().getPorts().stream().filter(p -> p.getPort() == 443).findFirst().orElseThrow();
        var container = of(all, Deployment.class).getFirst().getSpec().getTemplate().getSpec().getContainers().getFirst();
        assertThat(container.getPorts()).anySatisfy(p -> {
            assertThat(p.getName()).isEqualTo(servicePort.getTargetPort().getStrVal());
            assertThat(p.getContainerPort()).isEqualTo(15443);
        });
        assertThat(container.getArgs()).containsSequence("--webhook-address", "0.0.0.0");
    }

    @Test
    void threeReplicasSpreadOverNodesWithABudgetThatKeepsTwoServing() throws Exception {
        List<HasMetadata> all = all();
        Deployment deployment = of(all, Deployment.class).getFirst();
        assertThat(deployment.getSpec().getReplicas()).isEqualTo(3);
        assertThat(deployment.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable().getIntVal()).isZero();
        var template = deployment.getSpec().getTemplate();
        var antiAffinity = template.getSpec().getAffinity().getPodAntiAffinity().getPreferredDuringSchedulingIgnoredDuringExecution();
        assertThat(antiAffinity).singleElement().satisfies(t -> {
            assertThat(t.getPodAffinityTerm().getTopologyKey()).isEqualTo("kubernetes.io/hostname");
            assertThat(t.getPodAffinityTerm().getLabelSelector().getMatchLabels()).isEqualTo(template.getMetadata().getLabels()
                    .entrySet().stream().filter(e -> e.getKey().equals("app.kubernetes.io/name"))
                    .collect(java.util.stream.Collectors.toMap(java.util.Map.Entry::getKey, java.util.Map.Entry::getValue)));
        });
        var pdb = of(all, io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget.class).getFirst();
        assertThat(pdb.getMetadata().getNamespace()).isEqualTo(deployment.getMetadata().getNamespace());
        assertThat(pdb.getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);
        assertThat(template.getMetadata().getLabels()).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
        var container = template.getSpec().getContainers().getFirst();
        assertThat(container.getResources().getRequests()).containsKeys("cpu", "memory");
        assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/health");
        assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/health");
        assertThat(container.getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("POD_NAME"); // the replica's name in Lease septa-leader
            assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.name");
        });
        // The webhook and xDS Service selects every replica (Endpoints keep only the ready ones).
        Service service = of(all, Service.class).getFirst();
        assertThat(template.getMetadata().getLabels()).containsAllEntriesOf(service.getSpec().getSelector());
    }

    @Test
    void theCrdsAreNamespacedButMeshConfig() throws Exception {
        assertThat(of(all(), CustomResourceDefinition.class)).extracting(c -> c.getSpec().getScope())
                .containsExactlyInAnyOrder("Namespaced", "Namespaced", "Namespaced", "Cluster");
    }
}
