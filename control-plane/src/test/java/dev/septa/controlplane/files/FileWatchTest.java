package dev.septa.controlplane.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.septa.controlplane.ControlPlaneCore;
import dev.septa.controlplane.ControlPlaneMetrics;
import dev.septa.controlplane.support.ShopFixture;
import dev.septa.policy.model.Intent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * File system events, not the poll, bring an edit to the publisher: with the poll an hour apart, an intent saved by
 * rename (as editors and the e2e suites save), one written in place, and one in a subfolder created afterwards are
 * each published. (How fast is measured by the e2e suites and docs/proxyless.md, not asserted here.)
 */
class FileWatchTest {
    static final String DENY = """
            apiVersion: septa.dev/v1alpha1
            kind: Intent
            metadata: {name: %s, namespace: shop}
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
    void editsArePublishedOnFileSystemEventsAlone() throws Exception {
        var options = ShopFixture.options(dir).pollInterval(Duration.ofHours(1)).build();
        List<Set<String>> published = new CopyOnWriteArrayList<>();
        try (ControlPlaneCore core = new ControlPlaneCore(options, new ControlPlaneMetrics(new SimpleMeterRegistry()))) {
            core.onMeshApplied(m -> published.add(m.mesh().intents().stream().map(Intent::qualifiedName).collect(Collectors.toSet())));
            core.start();
            assertThat(published).hasSize(1);

            Path temporary = options.intentsDir().resolve(".renamed.yaml.tmp");
            Files.writeString(temporary, DENY.formatted("renamed"));
            Files.move(temporary, options.intentsDir().resolve("renamed.yaml"), StandardCopyOption.ATOMIC_MOVE);
            await().atMost(Duration.ofSeconds(30)).until(() -> published.getLast().contains("shop/renamed"));

            Files.writeString(options.intentsDir().resolve("in-place.yaml"), DENY.formatted("in-place"));
            await().atMost(Duration.ofSeconds(30)).until(() -> published.getLast().contains("shop/in-place"));

            Path sub = Files.createDirectories(options.intentsDir().resolve("team-a"));
            Thread.sleep(200); // the new folder's own event registers it before the file inside appears
            Files.writeString(sub.resolve("nested.yaml"), DENY.formatted("nested"));
            await().atMost(Duration.ofSeconds(30)).until(() -> published.getLast().contains("shop/nested"));
        }
    }
}
