package dev.septa.controlplane.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.septa.controlplane.ControlPlaneCore;
import dev.septa.controlplane.ControlPlaneMetrics;
import dev.septa.controlplane.support.ShopFixture;
import dev.septa.policy.model.Intent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A policy file that is deleted and re-created, or truncated and rewritten in place, while the control plane
 * reads it never leads to a published policy without its intents: a missing Deny would open access.
 */
class PolicyFileRaceTest {
    static final String DENY = """
            apiVersion: septa.dev/v1alpha1
            kind: Intent
            metadata: {name: checkout-never-touches-catalog, namespace: shop}
            spec:
              action: Deny
              from:
                - segment: checkout
              to:
                segment: catalog
            """;

    @TempDir
    Path dir;

    @Test
    void aFileCaughtMidRewriteIsNeverPublishedWithoutItsIntents() throws Exception {
        var options = ShopFixture.options(dir)
                // A maximum delay far below the writer's run: on a source that never settles the debouncer fires
                // every 200 ms, whatever state the file is in. The quiet period (how long content must stay the
                // same) is far above the writer's 10 ms steps, so that a loaded machine stalling the writer for a
                // moment does not look like an operator who left the file empty.
                .debounce(Duration.ofSeconds(1), Duration.ofMillis(200)).pollInterval(Duration.ofMillis(20)).build();
        Path file = options.intentsDir().resolve("zz-deny.yaml");
        Files.writeString(file, DENY);
        List<Set<String>> published = new CopyOnWriteArrayList<>();
        try (ControlPlaneCore core = new ControlPlaneCore(options, new ControlPlaneMetrics(new SimpleMeterRegistry()))) {
            core.onMeshApplied(m -> published.add(m.mesh().intents().stream().map(Intent::qualifiedName).collect(Collectors.toSet())));
            core.start();
            assertThat(published).hasSize(1);

            long end = System.nanoTime() + Duration.ofSeconds(4).toNanos();
            int cycles = 0;
            while (System.nanoTime() < end) {
                // An editor that saves in place: truncate, then write (the file is empty in between).
                try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.TRUNCATE_EXISTING)) {
                    out.flush();
                    Thread.sleep(10);
                    out.write(DENY.getBytes(StandardCharsets.UTF_8));
                }
                Thread.sleep(10);
                // One that deletes and re-creates.
                Files.delete(file);
                Thread.sleep(10);
                Files.writeString(file, DENY);
                Thread.sleep(10);
                cycles++;
            }
            // Once the folder is left alone it is published again, and nothing published meanwhile lacked the Deny.
            int before = published.size();
            Files.writeString(file, DENY + "# saved\n");
            await().atMost(Duration.ofSeconds(30)).until(() -> published.size() > before);
            assertThat(core.meshState().status().ok()).isTrue();
            assertThat(cycles).isGreaterThan(20);
            assertThat(published).allSatisfy(intents -> assertThat(intents)
                    .contains("shop/checkout-never-touches-catalog", "shop/storefront-never-pays"));
        }
    }
}
