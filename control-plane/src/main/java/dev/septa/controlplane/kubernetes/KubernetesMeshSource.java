package dev.septa.controlplane.kubernetes;

import dev.septa.controlplane.source.MeshSource;
import dev.septa.controlplane.source.SourceSnapshot;
import dev.septa.policy.parse.InputFile;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kubernetes mode: Segments, Intents and MeshConfig ({@code septa.dev/v1alpha1}) from every namespace, and the Pods
 * and Services of the mesh's namespaces, those labelled {@code septa.dev/inject: enabled} (the same label the
 * injection webhook selects on). Informers keep them in memory; each event bumps a version and calls the listeners
 * (the publisher's {@code changed()}), and {@link #read()} renders the cached objects, one {@link InputFile} per object
 * ({@link KubernetesObjectRenderer}), only when the version moved. A bad custom resource is therefore a compile error
 * in {@code k8s:NS/Intent/NAME:line:col}, and the publisher keeps the last good configuration.
 */
public final class KubernetesMeshSource implements MeshSource, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KubernetesMeshSource.class);
    public static final String MESH_NAMESPACE_LABEL = "septa.dev/inject";
    public static final String MESH_NAMESPACE_VALUE = "enabled";

    public static final ResourceDefinitionContext MESH_CONFIGS = crd("MeshConfig", "meshconfigs", false);
    public static final ResourceDefinitionContext SEGMENTS = crd("Segment", "segments", true);
    public static final ResourceDefinitionContext INTENTS = crd("Intent", "intents", true);
    /** Incident response: one more input of the compiler, like the others (docs/incident-response.md). */
    public static final ResourceDefinitionContext QUARANTINES = crd("Quarantine", "quarantines", true);

    private final KubernetesClient client;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final AtomicLong version = new AtomicLong();
    private final Map<String, SharedIndexInformer<?>> informers = new HashMap<>();
    private SharedIndexInformer<GenericKubernetesResource> meshConfigs;
    private SharedIndexInformer<GenericKubernetesResource> segments;
    private SharedIndexInformer<GenericKubernetesResource> intents;
    private SharedIndexInformer<GenericKubernetesResource> quarantines;
    private SharedIndexInformer<Namespace> namespaces;
    private SharedIndexInformer<Pod> pods;
    private SharedIndexInformer<Service> services;
    private SourceSnapshot rendered;
    private long renderedVersion = -1;
    /** Rendered pods and custom resources by uid, reused while their resourceVersion is unchanged. */
    private Map<String, Rendered> renderCache = new HashMap<>();

    private record Rendered(String resourceVersion, InputFile file) {}

    /** Per input name of the last read, who changed the object last (the audit log's; read on the publisher thread too). */
    private volatile Map<String, Map<String, String>> provenance = Map.of();

    public KubernetesMeshSource(KubernetesClient client) {
        this.client = client;
    }

    private static ResourceDefinitionContext crd(String kind, String plural, boolean namespaced) {
        // Named explicitly: no discovery round trip, and a missing CRD shows up as a failed list naming it.
        return new ResourceDefinitionContext.Builder().withGroup("septa.dev").withVersion("v1alpha1")
                .withKind(kind).withPlural(plural).withNamespaced(namespaced).build();
    }

    /** Starts the informers and waits until each has listed its objects, so the first compile sees the whole cluster. */
    public KubernetesMeshSource start(Duration syncTimeout) throws SourceException {
        meshConfigs = informer("meshconfigs.septa.dev", client.genericKubernetesResources(MESH_CONFIGS).runnableInformer(0));
        segments = informer("segments.septa.dev", client.genericKubernetesResources(SEGMENTS).inAnyNamespace().runnableInformer(0));
        intents = informer("intents.septa.dev", client.genericKubernetesResources(INTENTS).inAnyNamespace().runnableInformer(0));
        quarantines = informer("quarantines.septa.dev", client.genericKubernetesResources(QUARANTINES).inAnyNamespace().runnableInformer(0));
        namespaces = informer("namespaces", client.namespaces().runnableInformer(0));
        // Cluster-wide, filtered when rendering: a namespace that gets the label later needs no new watch.
        pods = informer("pods", client.pods().inAnyNamespace().runnableInformer(0));
        services = informer("services", client.services().inAnyNamespace().runnableInformer(0));
        long deadline = System.nanoTime() + syncTimeout.toNanos();
        for (var e : informers.entrySet()) {
            CompletableFuture<Void> started = e.getValue().start().toCompletableFuture();
            try {
                started.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (ExecutionException ex) {
                close();
                throw new SourceException("k8s:" + e.getKey(), "cannot list and watch " + e.getKey() + " at "
                        + client.getMasterUrl() + ": " + explain(ex, e.getKey()));
            } catch (TimeoutException ex) {
                close();
                throw new SourceException("k8s:" + e.getKey(), "listing " + e.getKey() + " did not finish within " + syncTimeout);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                close();
                throw new SourceException("k8s:" + e.getKey(), "interrupted while listing " + e.getKey());
            }
        }
        LOG.info("watching {}", describe());
        return this;
    }

    private <T extends HasMetadata> SharedIndexInformer<T> informer(String what, SharedIndexInformer<T> informer) {
        informer.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(T obj) {
                changed();
            }

            @Override
            public void onUpdate(T oldObj, T newObj) {
                changed();
            }

            @Override
            public void onDelete(T obj, boolean deletedFinalStateUnknown) {
                changed();
            }
        });
        informers.put(what, informer);
        return informer;
    }

    private void changed() {
        version.incrementAndGet();
        for (Runnable l : listeners) {
            try {
                l.run();
            } catch (RuntimeException e) {
                LOG.warn("change listener failed: {}", e.toString());
            }
        }
    }

    /** Called on an informer thread after every add, update or delete (the publisher's {@code changed()}). */
    public void addListener(Runnable listener) {
        listeners.add(listener);
    }

    /** The Segments, Intents, MeshConfigs and Quarantines as the watches hold them now (with their status). */
    public List<GenericKubernetesResource> customResources() {
        List<GenericKubernetesResource> all = new ArrayList<>();
        for (var informer : java.util.Arrays.asList(meshConfigs, segments, intents, quarantines)) {
            if (informer != null) {
                all.addAll(informer.getStore().list());
            }
        }
        return all;
    }

    /** The resource definition of a Septa kind ({@code Intent}, {@code Segment}, {@code MeshConfig}, {@code Quarantine}). */
    public static ResourceDefinitionContext definition(String kind) {
        return switch (kind) {
            case "Intent" -> INTENTS;
            case "Segment" -> SEGMENTS;
            case "MeshConfig" -> MESH_CONFIGS;
            case "Quarantine" -> QUARANTINES;
            default -> throw new IllegalArgumentException("not a Septa kind: " + kind);
        };
    }

    /** The namespaces labelled {@code septa.dev/inject: enabled}, sorted. */
    public Set<String> meshNamespaces() {
        Set<String> result = new TreeSet<>();
        for (Namespace ns : namespaces.getStore().list()) {
            var labels = ns.getMetadata().getLabels();
            if (labels != null && MESH_NAMESPACE_VALUE.equals(labels.get(MESH_NAMESPACE_LABEL))
                    && ns.getMetadata().getDeletionTimestamp() == null) {
                result.add(ns.getMetadata().getName());
            }
        }
        return result;
    }

    @Override
    public synchronized SourceSnapshot read() throws SourceException {
        if (meshConfigs == null) {
            throw new SourceException("k8s:", "the Kubernetes source was not started");
        }
        for (var e : informers.entrySet()) {
            if (!e.getValue().isRunning()) {
                throw new SourceException("k8s:" + e.getKey(), "the watch of " + e.getKey() + " stopped; restart the control plane");
            }
        }
        long v = version.get(); // read before rendering: an event during rendering leaves the next read to re-render
        if (v == renderedVersion && rendered != null) {
            return rendered;
        }
        List<InputFile> files = new ArrayList<>();
        Map<String, Rendered> cache = new HashMap<>();
        Map<String, Map<String, String>> origins = new HashMap<>();
        for (var informer : List.of(meshConfigs, segments, intents, quarantines)) {
            informer.getStore().list().forEach(r -> files.add(origin(r, origins, cached(r, cache, () -> KubernetesObjectRenderer.customResource(r)))));
        }
        Set<String> mesh = meshNamespaces();
        Map<String, List<Pod>> podsByNamespace = new HashMap<>();
        for (Pod pod : pods.getStore().list()) {
            if (mesh.contains(pod.getMetadata().getNamespace()) && KubernetesObjectRenderer.isMeshWorkload(pod)) {
                podsByNamespace.computeIfAbsent(pod.getMetadata().getNamespace(), k -> new ArrayList<>()).add(pod);
                files.add(origin(pod, origins, cached(pod, cache, () -> KubernetesObjectRenderer.workload(pod))));
            }
        }
        renderCache = cache; // only what exists now: deleted objects drop out
        for (Service service : services.getStore().list()) {
            String ns = service.getMetadata().getNamespace();
            if (mesh.contains(ns)) {
                KubernetesObjectRenderer.service(service, podsByNamespace.getOrDefault(ns, List.of()))
                        .ifPresent(f -> files.add(origin(service, origins, f)));
            }
        }
        files.sort(Comparator.comparing(InputFile::name));
        rendered = SourceSnapshot.of(files);
        provenance = origins;
        renderedVersion = v;
        return rendered;
    }

    @Override
    public Map<String, String> provenance(String inputName) {
        return provenance.getOrDefault(inputName, Map.of());
    }

    /**
     * Remembers the object's resourceVersion and the field manager of its most recent managedFields entry (who
     * applied or updated it last: kubectl, a GitOps controller, ...) under the input's name, for the audit log.
     */
    private static InputFile origin(HasMetadata object, Map<String, Map<String, String>> origins, InputFile file) {
        var meta = object.getMetadata();
        Map<String, String> origin = new java.util.LinkedHashMap<>();
        if (meta.getResourceVersion() != null) {
            origin.put("resourceVersion", meta.getResourceVersion());
        }
        var managed = meta.getManagedFields();
        if (managed != null && !managed.isEmpty()) {
            // RFC 3339 times of one format sort as text; entries without a time count as oldest.
            var latest = managed.stream().max(Comparator.comparing(m -> m.getTime() == null ? "" : m.getTime())).orElseThrow();
            if (latest.getManager() != null) {
                origin.put("manager", latest.getManager());
            }
            if (latest.getOperation() != null) {
                origin.put("operation", latest.getOperation());
            }
        }
        if (!origin.isEmpty()) {
            origins.put(file.name(), Map.copyOf(origin));
        }
        return file;
    }

    /** The UID of the pod {@code NS/NAME} as the pod watch sees it now, if there is such a pod. */
    public java.util.Optional<String> podUid(String nodeId) {
        SharedIndexInformer<Pod> informer = pods;
        Pod pod = informer == null ? null : informer.getStore().getByKey(nodeId);
        return pod == null ? java.util.Optional.empty() : java.util.Optional.ofNullable(pod.getMetadata().getUid());
    }

    /** Services are not cached: a named target port depends on the pods, not only on the Service's own version. */
    private InputFile cached(HasMetadata object, Map<String, Rendered> next, java.util.function.Supplier<InputFile> render) {
        String uid = object.getMetadata().getUid();
        String rv = object.getMetadata().getResourceVersion();
        if (uid == null || rv == null) {
            return render.get();
        }
        Rendered previous = renderCache.get(uid);
        Rendered now = previous != null && previous.resourceVersion().equals(rv) ? previous : new Rendered(rv, render.get());
        next.put(uid, now);
        return now.file();
    }

    @Override
    public String describe() {
        return "Kubernetes API " + client.getMasterUrl() + " (Segments, Intents, MeshConfigs; Pods and Services of namespaces labelled "
                + MESH_NAMESPACE_LABEL + "=" + MESH_NAMESPACE_VALUE + ")";
    }

    /** The HTTP status if the API server answered, else the first cause that says something (connection refused, TLS). */
    static String explain(Throwable e, String what) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof io.fabric8.kubernetes.client.KubernetesClientException k && k.getCode() > 0) {
                return switch (k.getCode()) {
                    case 404 -> "404 not found" + (what.endsWith("septa.dev") ? ": install the CRDs (kubectl apply -k manifests/)" : "");
                    case 401 -> "401 unauthorized: check the kubeconfig's credentials or the pod's service account token";
                    case 403 -> "403 forbidden: the service account needs the ClusterRole of manifests/rbac.yaml";
                    default -> k.getCode() + " " + k.getMessage();
                };
            }
        }
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof java.net.ConnectException) {
                return "connection refused or unreachable";
            }
            if (t instanceof javax.net.ssl.SSLException) {
                return "TLS failed: " + t.getMessage();
            }
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }

    @Override
    public void close() {
        informers.values().forEach(SharedIndexInformer::close);
    }
}
