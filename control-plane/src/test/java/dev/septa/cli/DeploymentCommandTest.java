package dev.septa.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.septa.controlplane.kubernetes.LeaderElection;
import dev.septa.controlplane.kubernetes.SecretRotationStores;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The command and arguments of manifests/deployment.yaml, run as they are (the image's entrypoint is the septa launcher,
 * so the Deployment's args are septa's) against fabric8's mock API server with manifests/crds applied; only the ports
 * are made free ones (port 0) and the state directory a temporary one. It starts, takes the lease, creates the CA in
 * its Secret, and the probes' path on the probes' port answers 200 once it serves, and still does, with xDS still
 * accepting connections, after the API server went away.
 */
@EnableKubernetesMockClient(crud = true)
class DeploymentCommandTest {
    static final Path MANIFESTS = Path.of("..", "manifests").toAbsolutePath().normalize();

    KubernetesMockServer server;
    KubernetesClient client;
    @TempDir
    Path dir;

    @Test
    void theDeploymentsArgumentsServeAndItsProbesAnswer() throws Exception {
        try (var files = Files.list(MANIFESTS.resolve("crds"))) {
            for (Path crd : files.sorted().toList()) {
                try (var in = Files.newInputStream(crd)) {
                    client.resource(client.apiextensions().v1().customResourceDefinitions().load(in).item()).create();
                }
            }
        }
        Deployment deployment;
        try (var in = Files.newInputStream(MANIFESTS.resolve("deployment.yaml"))) {
            deployment = client.apps().deployments().load(in).item();
        }
        var container = deployment.getSpec().getTemplate().getSpec().getContainers().getFirst();
        assertThat(container.getCommand()).as("the image's entrypoint (the septa launcher) runs").isNullOrEmpty();
        List<String> args = new ArrayList<>(container.getArgs());
        assertThat(args).containsSequence("serve", "--kubernetes");
        int stateDir = args.indexOf("--state-dir");
        args.set(stateDir + 1, dir.resolve("state").toString());
        args.addAll(List.of("--xds-port", "0", "--http-port", "0", "--webhook-port", "0", "--leader-election-id", "septa-abc12"));
        assertThat(container.getReadinessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("http");
        assertThat(container.getLivenessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("http");
        assertThat(container.getPorts()).anySatisfy(p -> assertThat(List.of(p.getName(), p.getContainerPort())).isEqualTo(List.of("http", 15000)));

        Map<String, String> props = Map.of("kubernetes.master", server.url("/"), "kubernetes.auth.tryKubeConfig", "false",
                "kubernetes.auth.tryServiceAccount", "false", "kubernetes.trust.certificates", "true",
                "kubernetes.disable.hostname.verification", "true", "kubernetes.namespace", "septa-system");
        props.forEach(System::setProperty);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        Thread serve = new Thread(() -> {
            CommandLine cli = SeptaCli.commandLine();
            cli.setOut(new PrintWriter(out, true));
            cli.setErr(new PrintWriter(err, true));
            cli.execute(args.toArray(String[]::new));
        }, "septa-serve-under-test");
        serve.start();
        try {
            Pattern http = Pattern.compile("HTTP on http://[^:]+:(\\d+)");
            await().atMost(Duration.ofSeconds(120)).until(() -> http.matcher(out.toString()).find() || !serve.isAlive());
            Matcher m = http.matcher(out.toString());
            assertThat(m.find()).as("stdout %s, stderr %s", out, err).isTrue();
            int port = Integer.parseInt(m.group(1));
            for (var probe : List.of(container.getReadinessProbe(), container.getLivenessProbe())) {
                var response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + probe.getHttpGet().getPath())).timeout(Duration.ofSeconds(30)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(response.statusCode()).as(probe.getHttpGet().getPath()).isEqualTo(200);
            }
            assertThat(client.leases().inNamespace("septa-system").withName(LeaderElection.LEASE).get().getSpec().getHolderIdentity())
                    .isEqualTo("septa-abc12");
            assertThat(client.secrets().inNamespace("septa-system").withName(SecretRotationStores.CA).get()).isNotNull();

            // Readiness does not go back to false (docs/kubernetes.md, "Probes"): with the API server gone, past the
            // lease's renew deadline (this replica then stops writing), both probes still answer 200 and xDS/SDS still
            // accepts connections, serving the last configuration.
            Matcher xds = Pattern.compile("xDS/SDS/ALS \\(TLS\\) on [^:]+:(\\d+)").matcher(out.toString());
            assertThat(xds.find()).isTrue();
            int xdsPort = Integer.parseInt(xds.group(1));
            server.shutdown();
            long until = System.nanoTime() + LeaderElection.Timing.DEFAULT.renewDeadline().plusSeconds(2).toNanos();
            while (System.nanoTime() < until) {
                for (var probe : List.of(container.getReadinessProbe(), container.getLivenessProbe())) {
                    var response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                                    URI.create("http://127.0.0.1:" + port + probe.getHttpGet().getPath())).timeout(Duration.ofSeconds(5)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertThat(response.statusCode()).as(probe.getHttpGet().getPath() + " with the API server gone").isEqualTo(200);
                }
                try (var socket = new java.net.Socket()) {
                    socket.connect(new java.net.InetSocketAddress("127.0.0.1", xdsPort), 2_000);
                }
                Thread.sleep(1_000);
            }
        } finally {
            serve.interrupt();
            serve.join(60_000);
            props.keySet().forEach(System::clearProperty);
        }
        assertThat(serve.isAlive()).isFalse();
    }
}
