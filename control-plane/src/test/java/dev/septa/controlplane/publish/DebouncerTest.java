package dev.septa.controlplane.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DebouncerTest {
    final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        executor.shutdownNow();
    }

    @Test
    void burstOfSignalsRunsTheActionOnceWithTheTimeOfTheFirstSignal() {
        AtomicInteger runs = new AtomicInteger();
        java.util.List<Long> served = new java.util.concurrent.CopyOnWriteArrayList<>();
        // A long quiet period: the whole burst lands inside it however slow the machine is.
        Debouncer debouncer = new Debouncer(executor, Duration.ofSeconds(2), Duration.ofSeconds(60), first -> {
            served.add(first);
            runs.incrementAndGet();
        });
        long before = System.nanoTime();
        for (int i = 0; i < 50; i++) {
            debouncer.signal();
        }
        long after = System.nanoTime();
        await().atMost(Duration.ofSeconds(30)).until(() -> runs.get() >= 1);
        // A fresh signal after the run is served by a second run: nothing is lost.
        debouncer.signal();
        await().atMost(Duration.ofSeconds(30)).until(() -> runs.get() >= 2);
        assertThat(runs.get()).isEqualTo(2);
        assertThat(served.get(0)).as("first run reports the burst's first signal").isBetween(before, after);
        assertThat(served.get(1)).as("second run reports its own signal").isGreaterThan(after);
    }

    @Test
    void steadyStreamOfSignalsIsStillServedByTheMaximumDelay() {
        AtomicInteger runs = new AtomicInteger();
        // quiet > max: every signal pushes the quiet deadline out, only the max delay can fire.
        Debouncer debouncer = new Debouncer(executor, Duration.ofHours(1), Duration.ofMillis(200), first -> runs.incrementAndGet());
        debouncer.signal();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            debouncer.signal();
            return runs.get() >= 1;
        });
        assertThat(runs.get()).isGreaterThanOrEqualTo(1);
    }
}
