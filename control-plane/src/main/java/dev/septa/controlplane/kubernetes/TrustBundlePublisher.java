package dev.septa.controlplane.kubernetes;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps ConfigMap {@code septa-trust-bundle} (key {@code ca.pem}) equal to the CA's trust bundle in every injected
 * namespace: injected pods mount it and do not start without it (decision 0005). Writes only what differs, so
 * running it again changes nothing. It reacts to namespace events ({@link #trigger()}), checks the bundle every
 * {@code checkEvery} (a root rotation extends and later shrinks it), and every {@code resyncEvery} compares each
 * ConfigMap with the API again, which restores one that was edited or deleted.
 */
public final class TrustBundlePublisher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TrustBundlePublisher.class);
    public static final String CONFIG_MAP = "septa-trust-bundle";
    public static final String KEY = "ca.pem";

    private final KubernetesClient client;
    private final Supplier<Set<String>> namespaces;
    private final Supplier<String> bundle;
    private final Duration checkEvery;
    private final Duration resyncEvery;
    private final ScheduledExecutorService executor =
            Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("septa-trust-bundle").factory());
    private final AtomicBoolean pending = new AtomicBoolean();
    /** Namespace → the bundle last written or found there; only touched on the executor thread. */
    private final Map<String, String> published = new HashMap<>();
    private long lastResync = System.nanoTime();
    private volatile java.util.function.BooleanSupplier mayWrite = () -> true;

    public TrustBundlePublisher(KubernetesClient client, Supplier<Set<String>> namespaces, Supplier<String> bundle,
                                Duration checkEvery, Duration resyncEvery) {
        this.client = client;
        this.namespaces = namespaces;
        this.bundle = bundle;
        this.checkEvery = checkEvery;
        this.resyncEvery = resyncEvery;
    }

    /** Publishes at once, then follows namespace and bundle changes. */
    /** Writes only while {@code mayWrite} holds (the leader), asked before every write; followers write nothing. */
    public TrustBundlePublisher writeOnlyWhile(java.util.function.BooleanSupplier mayWrite) {
        this.mayWrite = mayWrite;
        return this;
    }

    public TrustBundlePublisher start() {
        long ms = Math.max(1, checkEvery.toMillis());
        executor.scheduleWithFixedDelay(this::reconcileSafely, 0, ms, TimeUnit.MILLISECONDS);
        return this;
    }

    /** A namespace (or its label) changed: reconcile soon; calls coalesce. */
    public void trigger() {
        if (pending.compareAndSet(false, true)) {
            executor.execute(() -> {
                pending.set(false);
                reconcileSafely();
            });
        }
    }

    private void reconcileSafely() {
        try {
            if (System.nanoTime() - lastResync >= resyncEvery.toNanos()) {
                lastResync = System.nanoTime();
                published.clear(); // look at the API again: someone may have edited or deleted a ConfigMap
            }
            reconcile();
        } catch (RuntimeException e) {
            LOG.warn("publishing the trust bundle failed (retrying in {}): {}", checkEvery, e.toString());
        }
    }

    private void reconcile() {
        if (!mayWrite.getAsBoolean()) {
            published.clear(); // a new leader looks at the API afresh
            return;
        }
        String pem = bundle.get();
        Set<String> wanted = namespaces.get();
        published.keySet().retainAll(wanted);
        for (String ns : wanted) {
            if (pem.equals(published.get(ns))) {
                continue;
            }
            try {
                ensure(ns, pem);
                published.put(ns, pem);
            } catch (KubernetesClientException e) {
                LOG.warn("cannot write ConfigMap {}/{}: {} (retrying in {})", ns, CONFIG_MAP, e.getMessage(), checkEvery);
            }
        }
    }

    /** Creates the ConfigMap or updates its {@code ca.pem}; leaves it alone when it already holds this bundle. */
    private void ensure(String ns, String pem) {
        var resource = client.configMaps().inNamespace(ns).withName(CONFIG_MAP);
        ConfigMap current = resource.get();
        if (!mayWrite.getAsBoolean()) {
            throw new KubernetesClientException("not the leader any more");
        }
        if (current == null) {
            resource.create(new ConfigMapBuilder().withNewMetadata().withName(CONFIG_MAP).withNamespace(ns)
                    .addToLabels("app.kubernetes.io/managed-by", "septa").endMetadata()
                    .addToData(KEY, pem).build());
            LOG.info("created ConfigMap {}/{} with the trust bundle", ns, CONFIG_MAP);
        } else if (current.getData() == null || !pem.equals(current.getData().get(KEY))) {
            resource.edit(cm -> new ConfigMapBuilder(cm).addToData(KEY, pem).build());
            LOG.info("updated the trust bundle in ConfigMap {}/{}", ns, CONFIG_MAP);
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
