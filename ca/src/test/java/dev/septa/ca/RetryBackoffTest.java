package dev.septa.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RetryBackoffTest {

    @Test
    void doublesFromInitialUpToMax() {
        RetryBackoff b = RetryBackoff.DEFAULT;
        // random 0.5 is the unscaled delay
        assertThat(b.delay(1, 0.5)).isEqualTo(Duration.ofMillis(500));
        assertThat(b.delay(2, 0.5)).isEqualTo(Duration.ofSeconds(1));
        assertThat(b.delay(3, 0.5)).isEqualTo(Duration.ofSeconds(2));
        assertThat(b.delay(7, 0.5)).isEqualTo(Duration.ofSeconds(30)); // 32 s capped
        assertThat(b.delay(1_000, 0.5)).isEqualTo(Duration.ofSeconds(30));
        assertThat(b.delay(Integer.MAX_VALUE, 0.5)).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void jitterKeepsAFailedFleetFromRetryingInLockstep() {
        var random = new SplittableRandom(3);
        long min = Long.MAX_VALUE;
        long max = 0;
        for (int i = 0; i < 1_000; i++) {
            long d = RetryBackoff.DEFAULT.delay(4, random.nextDouble()).toMillis();
            assertThat(d).isBetween(3_000L, 5_000L);
            min = Math.min(min, d);
            max = Math.max(max, d);
        }
        assertThat(max - min).isGreaterThan(1_500);
    }

    @Test
    void refusesNonsense() {
        assertThatThrownBy(() -> new RetryBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RetryBackoff.DEFAULT.delay(0, 0.1)).isInstanceOf(IllegalArgumentException.class);
    }
}
