package dev.septa.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code septa serve --kubernetes} refuses what it cannot do with one clear line and exit 2, never a stack trace. */
@EnableKubernetesMockClient(crud = true)
class ServeKubernetesCommandTest {
    KubernetesMockServer server;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();
    @TempDir
    Path dir;

    private int run(String... args) {
        CommandLine cli = SeptaCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    @Test
    void localFilesAndKubernetesDoNotMix() {
        assertThat(run("serve", "--kubernetes", "--intents", dir.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("--kubernetes reads intents and inventory from the API; leave out --intents and --inventory");
    }

    @Test
    void withoutEitherSourceItSaysWhichToGive() {
        assertThat(run("serve", "--state-dir", dir.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("give --intents DIR (local mode) or --kubernetes");
    }

    @Test
    void anUnreachableApiServerIsOneLineAndExit2() {
        // fabric8 reads these when the client is built: a closed port, no kubeconfig, no service account, no retries
        Map<String, String> props = Map.of("kubernetes.master", "https://127.0.0.1:1", "kubernetes.auth.tryKubeConfig", "false",
                "kubernetes.auth.tryServiceAccount", "false", "kubernetes.request.retry.backoffLimit", "0");
        props.forEach(System::setProperty);
        try {
            assertThat(run("serve", "--kubernetes", "--kubernetes-sync-timeout", "30s", "--state-dir", dir.toString(),
                    "--xds-port", "0", "--http-port", "0")).isEqualTo(2);
        } finally {
            props.keySet().forEach(System::clearProperty);
        }
        assertThat(err.toString()).startsWith("septa serve: k8s:").contains("at https://127.0.0.1:1/: connection refused or unreachable")
                .doesNotContain("\tat ", "Exception");
        assertThat(err.toString().lines()).hasSize(1);
        assertThat(out.toString()).doesNotContain("xDS/SDS");
    }

    @Test
    void aWebhookPortOutOfRangeIsRefusedBeforeConnecting() {
        assertThat(run("serve", "--kubernetes", "--webhook-port", "70000", "--state-dir", dir.toString())).isEqualTo(2);
        assertThat(err.toString()).isEqualTo("septa serve: --webhook-port: expected 0..65535, got 70000" + System.lineSeparator());
    }

    @Test
    void aWebhookPortInUseStopsServeWithOneLine() throws Exception {
        // the mock API server's self-signed certificate is trusted here only
        Map<String, String> props = Map.of("kubernetes.master", server.url("/"), "kubernetes.auth.tryKubeConfig", "false",
                "kubernetes.auth.tryServiceAccount", "false", "kubernetes.request.retry.backoffLimit", "0",
                "kubernetes.trust.certificates", "true", "kubernetes.disable.hostname.verification", "true");
        props.forEach(System::setProperty);
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            assertThat(run("serve", "--kubernetes", "--state-dir", dir.toString(), "--xds-port", "0", "--http-port", "0",
                    "--webhook-port", String.valueOf(taken.getLocalPort()))).isEqualTo(2);
            assertThat(err.toString()).startsWith("septa serve: cannot serve the webhook on 127.0.0.1:" + taken.getLocalPort() + ": ")
                    .doesNotContain("\tat ", "Exception");
            assertThat(err.toString().lines()).hasSize(1);
        } finally {
            props.keySet().forEach(System::clearProperty);
        }
    }
}
