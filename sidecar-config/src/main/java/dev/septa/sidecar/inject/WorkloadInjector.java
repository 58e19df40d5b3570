package dev.septa.sidecar.inject;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Injects a pod, or the pod template of a workload that makes pods ({@code septa inject} accepts both; the admission
 * webhook sees only pods). The workload itself is copied and only its template changes.
 */
public final class WorkloadInjector {
    /** The kinds {@link #inject} accepts, by {@code kind}, with their Java types. */
    public static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
            "Pod", Pod.class, "Deployment", Deployment.class, "StatefulSet", StatefulSet.class, "DaemonSet", DaemonSet.class,
            "ReplicaSet", ReplicaSet.class, "Job", Job.class, "CronJob", CronJob.class);
    /** The order the error message lists them in. */
    public static final List<String> KIND_NAMES = List.of("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob");

    private final PodInjector pods;

    public WorkloadInjector(PodInjector pods) {
        this.pods = Objects.requireNonNull(pods, "pods");
    }

    /** What was injected: the copy of the resource, and the pod-level outcome. */
    public record Result(HasMetadata resource, InjectionResult.Outcome outcome, String reason) {
        public boolean injected() {
            return outcome == InjectionResult.Outcome.INJECTED;
        }
    }

    /**
     * @param namespace used when the resource has none ({@code default} if this is null too)
     * @throws IllegalArgumentException when a workload has no pod template
     */
    public Result inject(HasMetadata resource, String namespace) {
        String ns = resource.getMetadata() != null && resource.getMetadata().getNamespace() != null
                && !resource.getMetadata().getNamespace().isBlank() ? resource.getMetadata().getNamespace()
                : namespace == null || namespace.isBlank() ? "default" : namespace;
        return switch (resource) {
            case Pod pod -> {
                var result = pods.inject(pod, ns);
                yield new Result(result.pod(), result.outcome(), result.reason());
            }
            case Deployment d -> template(copy(d, Deployment.class), ns, x -> x.getSpec() == null ? null : x.getSpec().getTemplate(), (x, t) -> x.getSpec().setTemplate(t));
            case StatefulSet s -> template(copy(s, StatefulSet.class), ns, x -> x.getSpec() == null ? null : x.getSpec().getTemplate(), (x, t) -> x.getSpec().setTemplate(t));
            case DaemonSet s -> template(copy(s, DaemonSet.class), ns, x -> x.getSpec() == null ? null : x.getSpec().getTemplate(), (x, t) -> x.getSpec().setTemplate(t));
            case ReplicaSet s -> template(copy(s, ReplicaSet.class), ns, x -> x.getSpec() == null ? null : x.getSpec().getTemplate(), (x, t) -> x.getSpec().setTemplate(t));
            case Job j -> template(copy(j, Job.class), ns, x -> x.getSpec() == null ? null : x.getSpec().getTemplate(), (x, t) -> x.getSpec().setTemplate(t));
            case CronJob c -> template(copy(c, CronJob.class), ns,
                    x -> x.getSpec() == null || x.getSpec().getJobTemplate() == null || x.getSpec().getJobTemplate().getSpec() == null
                            ? null : x.getSpec().getJobTemplate().getSpec().getTemplate(),
                    (x, t) -> x.getSpec().getJobTemplate().getSpec().setTemplate(t));
            default -> throw new IllegalArgumentException("kind " + resource.getKind() + " has no pods to inject; expected one of "
                    + String.join(", ", KIND_NAMES));
        };
    }

    private <T extends HasMetadata> Result template(T workload, String namespace, Function<T, PodTemplateSpec> get,
                                                    BiConsumer<T, PodTemplateSpec> set) {
        PodTemplateSpec template = get.apply(workload);
        if (template == null) {
            throw new IllegalArgumentException(workload.getKind() + " " + workload.getMetadata().getName() + " has no pod template (spec.template)");
        }
        InjectionResult result = pods.inject(template, namespace);
        set.accept(workload, result.template());
        return new Result(workload, result.outcome(), result.reason());
    }

    private static <T> T copy(T value, Class<T> type) {
        return PodInjectorJson.MAPPER.convertValue(value, type);
    }
}
