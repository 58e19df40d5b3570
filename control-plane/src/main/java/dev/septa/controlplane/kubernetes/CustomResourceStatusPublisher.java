package dev.septa.controlplane.kubernetes;

import dev.septa.controlplane.kubernetes.ObjectIsolatingCompilation.InForce;
import dev.septa.controlplane.kubernetes.ObjectIsolatingCompilation.Verdict;
import dev.septa.policy.model.Intent;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.Peer;
import dev.septa.policy.model.Workload;
import dev.septa.policy.resolve.ResolvedMesh;
import dev.septa.policy.resolve.SelectorResolver;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the {@code status} of every Segment, Intent, MeshConfig and Quarantine: condition {@code Accepted} ({@code True}, or
 * {@code False} with reason {@code InvalidLastValidInForce} / {@code InvalidNotApplied} and the first error as
 * {@code k8s:NS/Intent/NAME:7:11: ...}), {@code observedGeneration}, and for Intents {@code selectedWorkloads}
 * ({@code from}, {@code to}: the workloads each side selects in the configuration in force).
 *
 * <p>It writes only what differs from the status the watch holds (so a resync or another replica's identical view
 * writes nothing), only for objects whose version the latest compile judged (a newer edit waits for its compile), and
 * only while {@code mayWrite} says so (the leader, checked before every write). {@code lastTransitionTime} moves only
 * when the condition's status does.
 */
public final class CustomResourceStatusPublisher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CustomResourceStatusPublisher.class);
    public static final String ACCEPTED = "Accepted";
    /** Kubernetes caps a condition message at 32768; one line of error is what kubectl should show. */
    static final int MAX_MESSAGE = 1024;

    private final KubernetesClient client;
    private final KubernetesMeshSource source;
    private final Supplier<Map<String, Verdict>> verdicts;
    private final Supplier<Optional<Mesh>> inForce;
    private final BooleanSupplier mayWrite;
    private final Clock clock;
    private final Duration checkEvery;
    private final ScheduledExecutorService executor =
            Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("septa-cr-status").factory());
    private final AtomicBoolean pending = new AtomicBoolean();
    private final AtomicLong writes = new AtomicLong();

    public CustomResourceStatusPublisher(KubernetesClient client, KubernetesMeshSource source,
                                         Supplier<Map<String, Verdict>> verdicts, Supplier<Optional<Mesh>> inForce,
                                         BooleanSupplier mayWrite, Clock clock, Duration checkEvery) {
        this.client = client;
        this.source = source;
        this.verdicts = verdicts;
        this.inForce = inForce;
        this.mayWrite = mayWrite;
        this.clock = clock;
        this.checkEvery = checkEvery;
    }

    public CustomResourceStatusPublisher start() {
        long ms = Math.max(1, checkEvery.toMillis());
        executor.scheduleWithFixedDelay(this::reconcileSafely, 0, ms, TimeUnit.MILLISECONDS);
        return this;
    }

    /** A compile was applied or a custom resource changed: reconcile soon; calls coalesce. */
    public void trigger() {
        if (pending.compareAndSet(false, true)) {
            try {
                executor.execute(() -> {
                    pending.set(false);
                    reconcileSafely();
                });
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                pending.set(false);
            }
        }
    }

    /** Status writes this publisher made (tests count them per replica). */
    public long writes() {
        return writes.get();
    }

    private void reconcileSafely() {
        try {
            reconcile();
        } catch (RuntimeException e) {
            LOG.warn("writing the status of Septa's custom resources failed (retrying in {}): {}", checkEvery, e.toString());
        }
    }

    private void reconcile() {
        if (!mayWrite.getAsBoolean()) {
            return;
        }
        Map<String, Verdict> judged = verdicts.get();
        if (judged.isEmpty()) {
            return; // the latest input was rejected whole (or nothing compiled yet): nothing new to say per object
        }
        ResolvedMesh resolved = inForce.get().map(SelectorResolver::resolve).orElse(null);
        for (GenericKubernetesResource r : source.customResources()) {
            var rendered = KubernetesObjectRenderer.customResource(r);
            Verdict verdict = judged.get(rendered.name());
            if (verdict == null || !verdict.version().equals(rendered)) {
                continue; // not compiled in this version yet
            }
            Map<String, Object> wanted = status(r, verdict, resolved);
            @SuppressWarnings("unchecked")
            Map<String, Object> current = r.getAdditionalProperties().get("status") instanceof Map<?, ?> m
                    ? (Map<String, Object>) m : Map.of();
            if (sameIgnoringTransitionTime(current, wanted)) {
                continue;
            }
            keepTransitionTime(current, wanted);
            if (!mayWrite.getAsBoolean()) {
                return; // lost the lease meanwhile: stop at once
            }
            write(r, wanted);
        }
    }

    private Map<String, Object> status(GenericKubernetesResource r, Verdict verdict, ResolvedMesh resolved) {
        Long generation = r.getMetadata().getGeneration();
        Map<String, Object> condition = new LinkedHashMap<>();
        condition.put("type", ACCEPTED);
        condition.put("status", verdict.accepted() ? "True" : "False");
        condition.put("reason", verdict.accepted() ? "Accepted"
                : verdict.inForce() == InForce.LAST_VALID ? "InvalidLastValidInForce" : "InvalidNotApplied");
        condition.put("message", message(verdict));
        if (generation != null) {
            condition.put("observedGeneration", generation);
        }
        condition.put("lastTransitionTime", clock.instant().truncatedTo(ChronoUnit.SECONDS).toString());
        Map<String, Object> status = new LinkedHashMap<>();
        if (generation != null) {
            status.put("observedGeneration", generation);
        }
        status.put("conditions", List.of(condition));
        if ("Intent".equals(r.getKind()) && resolved != null) {
            String qualified = r.getMetadata().getNamespace() + "/" + r.getMetadata().getName();
            resolved.mesh().intents().stream().filter(i -> i.qualifiedName().equals(qualified)).findFirst()
                    .ifPresent(intent -> status.put("selectedWorkloads", selected(intent, resolved)));
        }
        return status;
    }

    private static String message(Verdict verdict) {
        if (verdict.accepted()) {
            return "in force";
        }
        String first = verdict.message();
        String more = verdict.errors().size() > 1 ? " (and " + (verdict.errors().size() - 1) + " more)" : "";
        String why = verdict.inForce() == InForce.LAST_VALID ? " [its last valid version stays in force]" : " [not applied]";
        String text = first + more + why;
        return text.length() <= MAX_MESSAGE ? text : text.substring(0, MAX_MESSAGE - 3) + "...";
    }

    /** How many workloads of the mesh in force each side of the intent selects. */
    static Map<String, Object> selected(Intent intent, ResolvedMesh resolved) {
        Set<String> from = new HashSet<>();
        for (Peer p : intent.from()) {
            List<Workload> ws = switch (p) {
                case Peer.SegmentPeer s -> resolved.members(s.segment());
                case Peer.NamespacePeer n -> resolved.workloadsByNamespace().getOrDefault(n.namespace(), List.of());
            };
            ws.forEach(w -> from.add(w.id()));
        }
        Map<String, Object> counts = new LinkedHashMap<>();
        counts.put("from", (long) from.size());
        counts.put("to", (long) resolved.members(intent.to().segment()).size());
        return counts;
    }

    /** Equal up to the conditions' lastTransitionTime, numbers compared by value (JSON gives Integer or Long). */
    static boolean sameIgnoringTransitionTime(Map<String, Object> current, Map<String, Object> wanted) {
        return normalize(current).equals(normalize(wanted));
    }

    private static Object normalize(Object o) {
        if (o instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            new java.util.TreeMap<>(m).forEach((k, v) -> {
                if (!"lastTransitionTime".equals(k)) {
                    out.put(String.valueOf(k), normalize(v));
                }
            });
            return out;
        }
        if (o instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            l.forEach(v -> out.add(normalize(v)));
            return out;
        }
        if (o instanceof Number n) {
            return n.longValue();
        }
        return o;
    }

    @SuppressWarnings("unchecked")
    private static void keepTransitionTime(Map<String, Object> current, Map<String, Object> wanted) {
        if (!(current.get("conditions") instanceof List<?> old)) {
            return;
        }
        for (Object o : old) {
            if (o instanceof Map<?, ?> c && ACCEPTED.equals(c.get("type")) && c.get("lastTransitionTime") != null) {
                Map<String, Object> now = ((List<Map<String, Object>>) wanted.get("conditions")).getFirst();
                if (Objects.equals(c.get("status"), now.get("status"))) {
                    now.put("lastTransitionTime", c.get("lastTransitionTime"));
                }
            }
        }
    }

    private void write(GenericKubernetesResource r, Map<String, Object> status) {
        var resources = client.genericKubernetesResources(KubernetesMeshSource.definition(r.getKind()));
        GenericKubernetesResource copy = new GenericKubernetesResource();
        copy.setApiVersion(r.getApiVersion());
        copy.setKind(r.getKind());
        copy.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder(r.getMetadata()).build());
        copy.setAdditionalProperties(new LinkedHashMap<>(r.getAdditionalProperties()));
        copy.setAdditionalProperty("status", status);
        try {
            // resourceVersion kept: an object edited meanwhile is a 409, and the next round sees the new version
            if (r.getMetadata().getNamespace() == null) {
                resources.resource(copy).updateStatus();
            } else {
                resources.inNamespace(r.getMetadata().getNamespace()).resource(copy).updateStatus();
            }
            writes.incrementAndGet();
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409 && e.getCode() != 404) {
                LOG.warn("cannot write the status of {} {}/{}: HTTP {} {}", r.getKind(), r.getMetadata().getNamespace(),
                        r.getMetadata().getName(), e.getCode(), e.getMessage());
            }
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
