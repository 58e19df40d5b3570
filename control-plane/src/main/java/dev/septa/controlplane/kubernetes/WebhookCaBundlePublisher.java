package dev.septa.controlplane.kubernetes;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps {@code caBundle} of every webhook in MutatingWebhookConfiguration {@code septa-injector} equal to the CA's
 * trust bundle, which verifies the webhook's serving certificate (the API server trusts nothing else for it). Patches
 * only the webhooks whose bundle differs, so running it again changes nothing; checks the bundle every
 * {@code checkEvery} (root rotation extends, later shrinks it) and reads the object again every {@code resyncEvery},
 * which restores an edited bundle (e.g. {@code kubectl apply} of manifests/webhook.yaml, which carries none).
 */
public final class WebhookCaBundlePublisher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WebhookCaBundlePublisher.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String CONFIGURATION = "septa-injector";

    private final KubernetesClient client;
    private final Supplier<String> bundle;
    private final Duration checkEvery;
    private final Duration resyncEvery;
    private final ScheduledExecutorService executor =
            Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("septa-webhook-ca-bundle").factory());
    /** The bundle last written or found in place; only touched on the executor thread. */
    private String published;
    private long lastResync = System.nanoTime();
    private volatile java.util.function.BooleanSupplier mayWrite = () -> true;
    private boolean reportedMissing;

    public WebhookCaBundlePublisher(KubernetesClient client, Supplier<String> bundle, Duration checkEvery, Duration resyncEvery) {
        this.client = client;
        this.bundle = bundle;
        this.checkEvery = checkEvery;
        this.resyncEvery = resyncEvery;
    }

    /** Writes only while {@code mayWrite} holds (the leader), asked before every write; followers write nothing. */
    public WebhookCaBundlePublisher writeOnlyWhile(java.util.function.BooleanSupplier mayWrite) {
        this.mayWrite = mayWrite;
        return this;
    }

    public WebhookCaBundlePublisher start() {
        long ms = Math.max(1, checkEvery.toMillis());
        executor.scheduleWithFixedDelay(this::reconcileSafely, 0, ms, TimeUnit.MILLISECONDS);
        return this;
    }

    private void reconcileSafely() {
        try {
            if (System.nanoTime() - lastResync >= resyncEvery.toNanos()) {
                lastResync = System.nanoTime();
                published = null;
            }
            if (!mayWrite.getAsBoolean()) {
                published = null; // a new leader looks at the API afresh
                return;
            }
            String pem = bundle.get();
            if (!pem.equals(published) && ensure(pem)) {
                published = pem;
            }
        } catch (KubernetesClientException e) {
            LOG.warn("cannot write caBundle of MutatingWebhookConfiguration {}: {} (retrying in {})", CONFIGURATION, e.getMessage(), checkEvery);
        } catch (RuntimeException e) {
            LOG.warn("publishing the webhook's caBundle failed (retrying in {}): {}", checkEvery, e.toString());
        }
    }

    /** Patches the webhooks whose caBundle differs; false when the configuration does not exist (yet). */
    private boolean ensure(String pem) {
        var resource = client.admissionRegistration().v1().mutatingWebhookConfigurations().withName(CONFIGURATION);
        MutatingWebhookConfiguration current = resource.get();
        if (current == null) {
            if (!reportedMissing) {
                reportedMissing = true;
                LOG.warn("MutatingWebhookConfiguration {} not found (apply manifests/webhook.yaml); its caBundle is filled once it exists", CONFIGURATION);
            }
            return false;
        }
        reportedMissing = false;
        String caBundle = Base64.getEncoder().encodeToString(pem.getBytes(StandardCharsets.UTF_8));
        ArrayNode ops = JSON.createArrayNode();
        List<MutatingWebhook> hooks = current.getWebhooks() == null ? List.of() : current.getWebhooks();
        for (int i = 0; i < hooks.size(); i++) {
            var config = hooks.get(i).getClientConfig();
            if (config == null || Objects.equals(caBundle, config.getCaBundle())) {
                continue;
            }
            // "test" first: the patch applies only to the webhook it was computed for, whatever else changed meanwhile
            ops.addObject().put("op", "test").put("path", "/webhooks/" + i + "/name").put("value", hooks.get(i).getName());
            ops.addObject().put("op", "add").put("path", "/webhooks/" + i + "/clientConfig/caBundle").put("value", caBundle);
        }
        if (!ops.isEmpty() && mayWrite.getAsBoolean()) {
            resource.patch(PatchContext.of(PatchType.JSON), ops.toString());
            LOG.info("wrote the trust bundle into caBundle of MutatingWebhookConfiguration {} ({} webhooks)", CONFIGURATION, ops.size() / 2);
        }
        return true;
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
