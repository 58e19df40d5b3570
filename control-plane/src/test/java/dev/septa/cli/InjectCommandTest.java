package dev.septa.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code septa inject}: multi-document files, workloads' templates, idempotence through the CLI, and bad input as file:line:col. */
class InjectCommandTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = SeptaCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    private static List<Map<String, Object>> documents(String yaml) throws Exception {
        try (MappingIterator<Map<String, Object>> it = YAML.readerForMapOf(Object.class).readValues(yaml)) {
            return it.readAll();
        }
    }

    @Test
    void injectsEveryDocumentAndPrintsYamlThatInjectsToItself(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("shop.yaml");
        Files.writeString(file, """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: payments, namespace: shop}
                spec:
                  selector: {matchLabels: {app: payments}}
                  template:
                    metadata: {labels: {app: payments}}
                    spec:
                      serviceAccountName: payments
                      containers: [{name: app, image: shop/payments:1}]
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: checkout-1, annotations: {septa.dev/proxyless: "true"}, labels: {app: checkout}}
                spec:
                  containers: [{name: app, image: shop/checkout:1}]
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: exporter}
                spec:
                  hostNetwork: true
                  containers: [{name: e, image: prom/node-exporter}]
                """);
        assertThat(run("inject", "-f", file.toString(), "--namespace", "shop", "--proxy-image", "my/envoy:1")).isZero();

        var docs = documents(out.toString());
        assertThat(docs).hasSize(3);
        Deployment deployment = YAML.convertValue(docs.get(0), Deployment.class);
        assertThat(deployment.getSpec().getTemplate().getSpec().getInitContainers()).extracting(Container::getName)
                .containsExactly("septa-init", "septa-proxy");
        assertThat(deployment.getSpec().getTemplate().getSpec().getInitContainers().get(1).getImage()).isEqualTo("my/envoy:1");
        assertThat(deployment.getSpec().getTemplate().getSpec().getInitContainers().get(1).getArgs().get(1))
                .contains("\"id\":\"shop/$(SEPTA_POD_NAME)\"");
        Pod checkout = YAML.convertValue(docs.get(1), Pod.class);
        assertThat(checkout.getSpec().getInitContainers()).extracting(Container::getName).containsExactly("septa-agent");
        assertThat(docs.get(2)).as("a skipped pod is printed unchanged").isEqualTo(Map.of(
                "apiVersion", "v1", "kind", "Pod", "metadata", Map.of("name", "exporter"),
                "spec", Map.of("hostNetwork", true, "containers", List.of(Map.of("name", "e", "image", "prom/node-exporter")))));
        assertThat(err.toString()).contains(file + ":1: Deployment payments: injected", file + ":12: Pod checkout-1: injected",
                file + ":18: Pod exporter: skipped (hostNetwork");

        // Injecting the output again changes nothing.
        Path once = dir.resolve("once.yaml");
        Files.writeString(once, out.toString());
        String first = out.toString();
        out.getBuffer().setLength(0);
        assertThat(run("inject", "-f", once.toString(), "--namespace", "shop", "--proxy-image", "my/envoy:1")).isZero();
        assertThat(out.toString()).isEqualTo(first);
        assertThat(err.toString()).contains("Deployment payments: already injected");
    }

    @Test
    void dashReadsStandardInput() throws Exception {
        var stdin = System.in;
        try {
            System.setIn(new java.io.ByteArrayInputStream("kind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {containers: [{name: a, image: b}]}\n"
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            assertThat(run("inject", "-f", "-")).isZero();
        } finally {
            System.setIn(stdin);
        }
        Pod pod = YAML.convertValue(documents(out.toString()).getFirst(), Pod.class);
        assertThat(pod.getSpec().getInitContainers()).extracting(Container::getName).containsExactly("septa-init", "septa-proxy");
        assertThat(err.toString()).contains("-:1: Pod p: injected");
    }

    @Test
    void badInputIsReportedWithItsPositionAndNothingIsPrinted(@TempDir Path dir) throws Exception {
        assertBad(dir, "kind: Pod\nmetadata: {name: p}\nspec:\n  containers: 5\n", ":4:15: 'spec.containers': expected a list");
        assertBad(dir, "kind: Service\nmetadata: {name: s}\n", ":1:7: kind 'Service' has no pods to inject; expected one of Pod, Deployment");
        assertBad(dir, "metadata: {name: s}\n", ":1:1: missing 'kind'");
        assertBad(dir, "kind: Pod\nmetadata: {name: [\n", ":3:1: YAML syntax");
        assertBad(dir, "- a\n- b\n", ":1:1: expected a Kubernetes object");
        assertBad(dir, "kind: Pod\nmetadata: {name: ok}\nspec: {containers: [{name: a, image: b}]}\n---\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: 1}\n",
                ":5: Deployment d has no pod template");
        assertThat(run("inject", "-f", dir.resolve("missing.yaml").toString())).isEqualTo(2);
        assertThat(err.toString()).contains("missing.yaml: no such file");
    }

    private void assertBad(Path dir, String yaml, String expected) throws Exception {
        Path file = Files.createTempFile(dir, "bad", ".yaml");
        Files.writeString(file, yaml);
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        assertThat(run("inject", "-f", file.toString())).isEqualTo(2);
        assertThat(err.toString()).contains(file + expected);
        assertThat(out.toString()).isEmpty();
    }
}
