package dev.septa.controlplane.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.septa.ca.IssuanceListener;
import dev.septa.controlplane.certs.CaWorkloadCertificates;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The MutatingWebhookConfiguration exactly as manifests/webhook.yaml applies it (no caBundle), in fabric8's mock API
 * server in CRUD mode: the publisher fills caBundle with the CA's trust bundle, follows a root rotation, and puts it
 * back after an apply of the manifest wiped it.
 */
@EnableKubernetesMockClient(crud = true)
class WebhookCaBundlePublisherTest {
    static final Path MANIFEST = Path.of("..", "manifests", "webhook.yaml").toAbsolutePath().normalize();
    static final Duration WAIT = Duration.ofSeconds(60);

    KubernetesClient client;
    @TempDir
    Path dir;
    WebhookCaBundlePublisher publisher;

    @AfterEach
    void stop() {
        if (publisher != null) {
            publisher.close();
        }
    }

    private String caBundle() {
        MutatingWebhookConfiguration config = client.admissionRegistration().v1().mutatingWebhookConfigurations()
                .withName(WebhookCaBundlePublisher.CONFIGURATION).get();
        String b64 = config.getWebhooks().getFirst().getClientConfig().getCaBundle();
        return b64 == null ? null : new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8);
    }

    @Test
    void fillsTheManifestsCaBundleAndFollowsRotationAndEdits() throws Exception {
        var ca = new CaWorkloadCertificates(dir.resolve("ca"), () -> "cluster.local", IssuanceListener.NONE);
        publisher = new WebhookCaBundlePublisher(client, ca::trustBundlePem, Duration.ofMillis(50), Duration.ofMillis(500)).start();
        // Created after the publisher started: it waits for the object rather than failing.
        try (InputStream in = Files.newInputStream(MANIFEST)) {
            var config = client.admissionRegistration().v1().mutatingWebhookConfigurations().load(in).item();
            assertThat(config.getWebhooks().getFirst().getClientConfig().getCaBundle()).as("the manifest carries none").isNull();
            client.resource(config).create();
        }

        await().atMost(WAIT).until(() -> ca.trustBundlePem().equals(caBundle()));
        var config = client.admissionRegistration().v1().mutatingWebhookConfigurations().withName(WebhookCaBundlePublisher.CONFIGURATION).get();
        // Only caBundle was written: the rest is the manifest's.
        assertThat(config.getWebhooks().getFirst().getClientConfig().getService().getPath()).isEqualTo("/inject");
        assertThat(config.getWebhooks().getFirst().getFailurePolicy()).isEqualTo("Fail");

        ca.rootRotation().begin(); // the bundle now holds both roots
        String extended = ca.trustBundlePem();
        assertThat(extended).isNotEqualTo(config.getWebhooks().getFirst().getClientConfig().getCaBundle());
        await().atMost(WAIT).until(() -> extended.equals(caBundle()));

        // `kubectl apply -f manifests/webhook.yaml` (or anyone) removes it: the next resync restores it.
        client.admissionRegistration().v1().mutatingWebhookConfigurations().withName(WebhookCaBundlePublisher.CONFIGURATION)
                .patch(PatchContext.of(PatchType.JSON), "[{\"op\":\"remove\",\"path\":\"/webhooks/0/clientConfig/caBundle\"}]");
        assertThat(caBundle()).isNull();
        await().atMost(WAIT).until(() -> extended.equals(caBundle()));
    }
}
