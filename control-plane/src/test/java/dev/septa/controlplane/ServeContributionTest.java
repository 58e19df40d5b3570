package dev.septa.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The composition root ({@link ControlPlane#start}) wires a contribution (what Kubernetes mode is) around the real
 * control plane: before the xDS server starts, once both servers serve, and closed after the core, also when a
 * contribution cannot start.
 */
class ServeContributionTest {

    @TempDir
    Path dir;

    /** Records what it saw; {@code failWith} makes {@link #started} fail as a taken webhook port would. */
    static final class Recording implements ServeContribution {
        final List<String> events = new CopyOnWriteArrayList<>();
        final IOException failWith;
        ControlPlaneCore startedCore;

        Recording(IOException failWith) {
            this.failWith = failWith;
        }

        @Override
        public void beforeStart(ControlPlaneCore core) {
            events.add("beforeStart");
        }

        @Override
        public void started(ControlPlaneCore core) {
            // The xDS server serves by now: its port is known and the CA has made its bundle.
            events.add("started xds=" + (core.xdsPort() > 0) + " bundle=" + !core.certificates().trustBundlePem().isEmpty());
            startedCore = core;
            if (failWith != null) {
                throw new StartException("cannot serve the test part", failWith);
            }
        }

        @Override
        public void close() {
            // After the core: its publisher no longer runs, so a closing source cannot be read.
            events.add("close");
        }
    }

    ControlPlaneOptions.Builder options() throws IOException {
        Path intents = Files.createDirectories(dir.resolve("intents"));
        try (var files = Files.list(ControlPlaneTest.SHOP.resolve("intents"))) {
            for (Path f : files.toList()) {
                Files.copy(f, intents.resolve(f.getFileName()));
            }
        }
        return ControlPlaneOptions.builder().intentsDir(intents)
                .inventoryFile(ControlPlaneTest.SHOP.resolve("inventory.yaml")).stateDir(dir.resolve("state"))
                .xdsHost("127.0.0.1").xdsPort(0).httpPort(0);
    }

    @Test
    void aContributionStartsWithTheControlPlaneAndClosesAfterIt() throws Exception {
        Recording part = new Recording(null);
        try (ControlPlane cp = ControlPlane.start(options().contribute(part).build())) {
            assertThat(part.events).containsExactly("beforeStart", "started xds=true bundle=true");
            assertThat(part.startedCore).isSameAs(cp.core());
        }
        assertThat(part.events).containsExactly("beforeStart", "started xds=true bundle=true", "close");
    }

    @Test
    void aContributionThatCannotStartStopsTheControlPlaneAndSaysWhy() throws Exception {
        Recording part = new Recording(new java.net.BindException("Address already in use"));
        assertThatThrownBy(() -> ControlPlane.start(options().contribute(part).build()))
                .isInstanceOf(ServeContribution.StartException.class)
                .hasMessage("cannot serve the test part")
                .hasRootCauseMessage("Address already in use");
        assertThat(part.events).containsExactly("beforeStart", "started xds=true bundle=true", "close");
    }
}
