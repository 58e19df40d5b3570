package dev.septa.controlplane.support;

import dev.septa.controlplane.ControlPlaneOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The shop example (examples/shop) as a control plane's input, for tests that run the whole control plane. */
public final class ShopFixture {
    public static final Path SHOP = Path.of("..", "examples", "shop").toAbsolutePath().normalize();

    private ShopFixture() {
    }

    /**
     * Options on loopback with free ports: the shop's intents copied into {@code dir/intents} (so a test may edit
     * them), its inventory, and the state in {@code dir/state}.
     */
    public static ControlPlaneOptions.Builder options(Path dir) throws IOException {
        Path intents = Files.createDirectories(dir.resolve("intents"));
        try (var files = Files.list(SHOP.resolve("intents"))) {
            for (Path f : files.toList()) {
                Files.copy(f, intents.resolve(f.getFileName()));
            }
        }
        return ControlPlaneOptions.builder().intentsDir(intents).inventoryFile(SHOP.resolve("inventory.yaml"))
                .stateDir(dir.resolve("state")).xdsHost("127.0.0.1").xdsPort(0).httpPort(0);
    }
}
