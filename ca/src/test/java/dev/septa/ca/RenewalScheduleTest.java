package dev.septa.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RenewalScheduleTest {
    private static final Instant NOT_BEFORE = Instant.parse("2026-11-25T12:00:00Z");
    private static final Instant NOT_AFTER = NOT_BEFORE.plus(Duration.ofHours(1));

    @Test
    void renewsAtHalfLifetimePlusOrMinusATenth() {
        RenewalSchedule s = RenewalSchedule.DEFAULT;
        assertThat(s.renewAt(NOT_BEFORE, NOT_AFTER, 0.0)).isEqualTo(NOT_BEFORE.plus(Duration.ofMinutes(24)));
        assertThat(s.renewAt(NOT_BEFORE, NOT_AFTER, 0.5)).isEqualTo(NOT_BEFORE.plus(Duration.ofMinutes(30)));
        assertThat(s.renewAt(NOT_BEFORE, NOT_AFTER, 0.999_999)).isBefore(NOT_BEFORE.plus(Duration.ofMinutes(36)))
                .isAfter(NOT_BEFORE.plus(Duration.ofMinutes(35)));
    }

    @Test
    void aFleetIssuedInTheSameSecondIsSpreadEvenlyAcrossTheWindow() {
        // 10,000 certificates with identical validity; each draws its own random number at issuance.
        var random = new SplittableRandom(6);
        int n = 10_000;
        int buckets = 20;
        int[] counts = new int[buckets];
        Instant[] window = RenewalSchedule.DEFAULT.window(NOT_BEFORE, NOT_AFTER);
        long windowMillis = Duration.between(window[0], window[1]).toMillis();
        Instant first = Instant.MAX;
        Instant last = Instant.MIN;
        for (int i = 0; i < n; i++) {
            Instant at = RenewalSchedule.DEFAULT.renewAt(NOT_BEFORE, NOT_AFTER, random.nextDouble());
            assertThat(at).isBetween(window[0], window[1]);
            first = at.isBefore(first) ? at : first;
            last = at.isAfter(last) ? at : last;
            counts[(int) Math.min(buckets - 1, Duration.between(window[0], at).toMillis() * buckets / windowMillis)]++;
        }
        // Uniform over 12 minutes: every 36 s slice holds about 500 renewals; none is a thundering herd.
        for (int c : counts) {
            assertThat(c).isBetween(400, 600);
        }
        assertThat(Duration.between(first, last)).isGreaterThan(Duration.ofMinutes(11));
        assertThat(window[0]).isEqualTo(NOT_BEFORE.plus(Duration.ofMinutes(24)));
        assertThat(window[1]).isEqualTo(NOT_BEFORE.plus(Duration.ofMinutes(36)));
    }

    @Test
    void secondsLongCertificatesRenewWellBeforeExpiry() {
        Instant nb = NOT_BEFORE;
        Instant na = nb.plusSeconds(6);
        for (double r = 0; r < 1; r += 0.01) {
            Instant at = RenewalSchedule.DEFAULT.renewAt(nb, na, r);
            assertThat(Duration.between(at, na)).isGreaterThanOrEqualTo(Duration.ofMillis(2400));
        }
    }

    @Test
    void anAlreadyInvalidCertificateIsRenewedAtOnce() {
        assertThat(RenewalSchedule.DEFAULT.renewAt(NOT_AFTER, NOT_BEFORE, 0.3)).isEqualTo(NOT_AFTER);
    }

    @Test
    void refusesSchedulesOutsideTheLifetimeAndBadRandoms() {
        assertThatThrownBy(() -> new RenewalSchedule(0.5, 0.5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("strictly inside the lifetime");
        assertThatThrownBy(() -> RenewalSchedule.DEFAULT.renewAt(NOT_BEFORE, NOT_AFTER, 1.0))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
