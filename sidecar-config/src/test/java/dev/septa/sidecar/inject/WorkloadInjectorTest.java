package dev.septa.sidecar.inject;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder;
import io.fabric8.kubernetes.api.model.apps.DaemonSetBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.CronJobBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Every kind that makes pods has its template injected; the rest of the workload and the input stay as they were. */
class WorkloadInjectorTest {
    private final WorkloadInjector injector = new WorkloadInjector(new PodInjector(InjectionSettings.defaults("cluster.local")));

    private static PodTemplateSpec template() {
        return new PodTemplateSpecBuilder().withNewMetadata().addToLabels("app", "w").endMetadata()
                .withNewSpec().addNewContainer().withName("app").withImage("w:1").endContainer().endSpec().build();
    }

    @Test
    void everyKindThatMakesPodsIsInjected() {
        List<HasMetadata> workloads = List.of(
                new DeploymentBuilder().withNewMetadata().withName("d").endMetadata().withNewSpec().withReplicas(3).withTemplate(template()).endSpec().build(),
                new StatefulSetBuilder().withNewMetadata().withName("s").endMetadata().withNewSpec().withServiceName("s").withTemplate(template()).endSpec().build(),
                new DaemonSetBuilder().withNewMetadata().withName("ds").endMetadata().withNewSpec().withTemplate(template()).endSpec().build(),
                new ReplicaSetBuilder().withNewMetadata().withName("rs").endMetadata().withNewSpec().withTemplate(template()).endSpec().build(),
                new JobBuilder().withNewMetadata().withName("j").endMetadata().withNewSpec().withBackoffLimit(2).withTemplate(template()).endSpec().build(),
                new CronJobBuilder().withNewMetadata().withName("c").endMetadata().withNewSpec().withSchedule("0 * * * *")
                        .withNewJobTemplate().withNewSpec().withTemplate(template()).endSpec().endJobTemplate().endSpec().build());
        assertThat(workloads).extracting(HasMetadata::getKind).containsExactlyInAnyOrderElementsOf(WorkloadInjector.KIND_NAMES.subList(1, 7));
        for (HasMetadata workload : workloads) {
            String before = workload.toString();
            var result = injector.inject(workload, "shop");
            assertThat(result.injected()).as(workload.getKind()).isTrue();
            assertThat(workload.toString()).as("input untouched").isEqualTo(before);
            PodTemplateSpec injected = templateOf(result.resource());
            assertThat(injected.getSpec().getInitContainers()).extracting(Container::getName).containsExactly("septa-init", "septa-proxy");
            assertThat(injected.getSpec().getInitContainers().get(1).getArgs().get(1)).contains("\"id\":\"shop/$(SEPTA_POD_NAME)\"");
            assertThat(injector.inject(result.resource(), "shop").outcome()).isEqualTo(InjectionResult.Outcome.ALREADY_INJECTED);
        }
        var deployment = (io.fabric8.kubernetes.api.model.apps.Deployment) injector.inject(workloads.getFirst(), "shop").resource();
        assertThat(deployment.getSpec().getReplicas()).isEqualTo(3);
    }

    @Test
    void aWorkloadWithoutTemplateOrAKindWithoutPodsIsAnError() {
        assertThatThrownBy(() -> injector.inject(new DeploymentBuilder().withNewMetadata().withName("d").endMetadata().withNewSpec().endSpec().build(), "shop"))
                .hasMessageContaining("Deployment d has no pod template");
        assertThatThrownBy(() -> injector.inject(new ServiceBuilder().withNewMetadata().withName("s").endMetadata().build(), "shop"))
                .hasMessageContaining("kind Service has no pods to inject");
    }

    private static PodTemplateSpec templateOf(HasMetadata resource) {
        Function<HasMetadata, PodTemplateSpec> get = switch (resource) {
            case io.fabric8.kubernetes.api.model.apps.Deployment d -> r -> d.getSpec().getTemplate();
            case io.fabric8.kubernetes.api.model.apps.StatefulSet s -> r -> s.getSpec().getTemplate();
            case io.fabric8.kubernetes.api.model.apps.DaemonSet s -> r -> s.getSpec().getTemplate();
            case io.fabric8.kubernetes.api.model.apps.ReplicaSet s -> r -> s.getSpec().getTemplate();
            case io.fabric8.kubernetes.api.model.batch.v1.Job j -> r -> j.getSpec().getTemplate();
            case io.fabric8.kubernetes.api.model.batch.v1.CronJob c -> r -> c.getSpec().getJobTemplate().getSpec().getTemplate();
            default -> throw new AssertionError(resource.getKind());
        };
        return get.apply(resource);
    }
}
