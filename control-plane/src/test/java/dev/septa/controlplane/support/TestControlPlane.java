package dev.septa.controlplane.support;

import static org.awaitility.Awaitility.await;

import dev.septa.controlplane.ControlPlaneCore;
import dev.septa.controlplane.ControlPlaneMetrics;
import dev.septa.controlplane.ControlPlaneOptions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/** A control plane core on loopback with a temp state dir, the line compiler and the test CA. */
public final class TestControlPlane implements AutoCloseable {
    public final Path intents;
    public final Path stateDir;
    public final TestCertificates ca = new TestCertificates("septa-test-root");
    public final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    public final ControlPlaneCore core;

    public TestControlPlane(Path dir, String config) throws IOException {
        this(dir, config, Duration.ofMillis(50));
    }

    public TestControlPlane(Path dir, String config, Duration quiet) throws IOException {
        this(dir, config, quiet, b -> b);
    }

    /** {@code tuning}: changes to the options (e.g. Kubernetes mode's token review). */
    public TestControlPlane(Path dir, String config, Duration quiet,
                            java.util.function.UnaryOperator<ControlPlaneOptions.Builder> tuning) throws IOException {
        intents = Files.createDirectories(dir.resolve("intents"));
        stateDir = dir.resolve("state");
        Files.writeString(intents.resolve("mesh.yaml"), config);
        core = new ControlPlaneCore(tuning.apply(ControlPlaneOptions.builder()
                .intentsDir(intents).stateDir(stateDir)
                .xdsHost("127.0.0.1").xdsPort(0).httpPort(0)
                .debounce(quiet, quiet.multipliedBy(10)).pollInterval(Duration.ofMillis(20)))
                .build(), new LineCompilation(), ca, new ControlPlaneMetrics(registry)).start();
    }

    /** A client presenting {@code bearer} as is (a Kubernetes service-account token, say). */
    public AdsTestClient clientWithBearer(String bearer) {
        return new AdsTestClient(core.xdsPort(), ca.trustBundlePem(), bearer, null);
    }

    public AdsTestClient clientWithToken(String nodeId) {
        return new AdsTestClient(core.xdsPort(), ca.trustBundlePem(), core.nodeTokens().mint(nodeId), null);
    }

    /** Writes a file in the intents folder and waits until the publisher has compiled what is now there. */
    public void write(String file, String content) throws IOException {
        String before = core.meshState().status().at() == null ? "" : core.meshState().status().at().toString();
        Files.writeString(intents.resolve(file), content);
        await().atMost(Duration.ofSeconds(30)).until(() -> core.meshState().status().at() != null
                && !Objects.equals(before, core.meshState().status().at().toString()));
    }

    @Override
    public void close() {
        core.close();
    }
}
