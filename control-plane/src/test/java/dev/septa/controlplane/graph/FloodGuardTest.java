package dev.septa.controlplane.graph;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FloodGuardTest {
    final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    final GraphCounters counters = new GraphCounters();

    @Test
    void admitsTheBurstThenTheRateAndCountsWhatItSheds() {
        FloodGuard guard = new FloodGuard(1000, 100, counters, nanos::get);
        int admitted = 0;
        for (int i = 0; i < 10_000; i++) {
            if (guard.admit()) {
                admitted++;
            }
        }
        assertThat(admitted).isEqualTo(100);
        assertThat(counters.snapshot().shed()).isEqualTo(9_900);

        nanos.addAndGet(1_000_000_000L); // one second: 1000 more tokens, capped by the burst of 100
        admitted = 0;
        for (int i = 0; i < 10_000; i++) {
            if (guard.admit()) {
                admitted++;
            }
        }
        assertThat(admitted).isEqualTo(100);

        // Spread evenly at the sustained rate, nothing is shed.
        long shedBefore = counters.snapshot().shed();
        for (int i = 0; i < 5_000; i++) {
            nanos.addAndGet(1_000_000L);
            assertThat(guard.admit()).isTrue();
        }
        assertThat(counters.snapshot().shed()).isEqualTo(shedBefore);
    }

    @Test
    void rejectsNonsenseSettings() {
        assertThatThrownBy(() -> new FloodGuard(0, 10, counters)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new FloodGuard(10, 0, counters)).isInstanceOf(IllegalArgumentException.class);
    }
}
