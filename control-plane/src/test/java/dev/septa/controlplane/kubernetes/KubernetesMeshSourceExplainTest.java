package dev.septa.controlplane.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** A failed first list is explained by what the operator must fix, not by the exception's class. */
class KubernetesMeshSourceExplainTest {
    @Test
    void statusCodesSayWhatToFix() {
        assertThat(KubernetesMeshSource.explain(new CompletionException(new KubernetesClientException("nope", 404, null)), "intents.septa.dev"))
                .isEqualTo("404 not found: install the CRDs (kubectl apply -k manifests/)");
        assertThat(KubernetesMeshSource.explain(new KubernetesClientException("nope", 403, null), "pods"))
                .contains("403 forbidden").contains("manifests/rbac.yaml");
        assertThat(KubernetesMeshSource.explain(new KubernetesClientException("nope", 401, null), "pods")).startsWith("401 unauthorized");
        assertThat(KubernetesMeshSource.explain(new RuntimeException(new java.net.ConnectException()), "pods"))
                .isEqualTo("connection refused or unreachable");
        assertThat(KubernetesMeshSource.explain(new RuntimeException(new IllegalStateException("boom")), "pods")).isEqualTo("boom");
    }
}
