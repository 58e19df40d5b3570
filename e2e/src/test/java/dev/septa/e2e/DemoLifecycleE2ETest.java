package dev.septa.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.e2e.support.ShopExample;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code septa demo} as a user runs it, in its own process: it prints decisions, and killing it leaves no process behind. */
class DemoLifecycleE2ETest {
    @TempDir Path work;

    @Test
    void workloadsDieWithTheDemoEvenWhenItIsKilledHard() throws Exception {
        Path example = ShopExample.copyTo(work.resolve("shop"));
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process demo = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-cp", System.getProperty("java.class.path"), "dev.septa.cli.SeptaCli", "demo",
                "--intents", example.resolve("intents").toString(), "--inventory", example.resolve("inventory.yaml").toString(),
                "--state-dir", work.resolve("state").toString(), "--interval", "PT1S")
                .redirectError(work.resolve("demo.err").toFile()).start();
        try {
            var allowed = new CompletableFuture<String>();
            var denied = new CompletableFuture<String>();
            Thread.ofPlatform().daemon().start(() -> {
                try (var lines = new BufferedReader(new InputStreamReader(demo.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = lines.readLine()) != null) {
                        System.out.println("demo| " + line);
                        if (line.contains(" ALLOWED ") && line.contains("/shop.Payments/Charge") && line.contains("shop/checkout-may-charge")) {
                            allowed.complete(line);
                        }
                        if (line.contains(" DENIED ") && line.contains("shop/storefront-never-pays")) {
                            denied.complete(line);
                        }
                    }
                } catch (java.io.IOException e) {
                    // the process ended
                }
            });
            assertThat(allowed.get(240, TimeUnit.SECONDS)).contains("shop/checkout-1").contains("/shop.Payments/Charge");
            assertThat(denied.get(120, TimeUnit.SECONDS)).contains("shop/storefront-1").contains("payments.shop:8443");
            // The demo's only children are its workload processes.
            List<ProcessHandle> workloads = demo.children().toList();
            assertThat(workloads).hasSize(6);

            demo.destroyForcibly(); // SIGKILL: no shutdown hook runs; the children notice their stdin closing
            demo.waitFor(30, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (workloads.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(workloads).noneMatch(ProcessHandle::isAlive);
        } finally {
            demo.descendants().forEach(ProcessHandle::destroyForcibly);
            demo.destroyForcibly();
        }
        assertThat(Files.readString(work.resolve("demo.err"))).doesNotContain("PRIVATE KEY");
    }
}
