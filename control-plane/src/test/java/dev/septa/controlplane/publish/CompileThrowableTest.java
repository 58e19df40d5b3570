package dev.septa.controlplane.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.septa.controlplane.support.TestControlPlane;
import dev.septa.policy.model.Workload;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A compile that throws an Error (here a real StackOverflowError) is reported in status like any failed compile, and
 * the last good configuration stays: before, the Error vanished into the publisher's executor and status said ok.
 */
class CompileThrowableTest {
    @Test
    void anErrorFromTheCompilerIsReportedAndTheLastGoodConfigurationStays(@TempDir Path dir) throws Exception {
        try (TestControlPlane cp = new TestControlPlane(dir, "workload shop/a a\nlistener shop/a inbound 15006\n")) {
            assertThat(cp.core.meshState().status().ok()).isTrue();

            cp.write("mesh.yaml", "workload shop/b b\nrecurse\n");

            await().atMost(Duration.ofSeconds(30)).until(() -> !cp.core.meshState().status().ok());
            assertThat(cp.core.meshState().status().errors()).singleElement().asString()
                    .contains("internal error").contains("StackOverflowError");
            assertThat(cp.core.meshState().mesh().orElseThrow().workloads()).extracting(Workload::id).containsExactly("shop/a");

            // The publisher is still alive: the next good edit is applied.
            cp.write("mesh.yaml", "workload shop/c c\n");
            await().atMost(Duration.ofSeconds(30)).until(() -> cp.core.meshState().status().ok());
            assertThat(cp.core.meshState().mesh().orElseThrow().workloads()).extracting(Workload::id).containsExactly("shop/c");
        }
    }
}
