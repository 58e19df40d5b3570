package dev.septa.ca;

import java.time.Duration;
import java.util.Objects;

/**
 * How long to wait before the next attempt after {@code failures} failed issuances in a row: {@code initial}
 * doubled per failure up to {@code max}, scaled by a random factor in [0.75, 1.25) so that a fleet that failed
 * together (the CA was down) does not retry in lockstep. Pure; the caller supplies {@code random}.
 */
public record RetryBackoff(Duration initial, Duration max) {

    /** 500 ms, 1 s, 2 s, ... up to 30 s. */
    public static final RetryBackoff DEFAULT = new RetryBackoff(Duration.ofMillis(500), Duration.ofSeconds(30));

    public RetryBackoff {
        Objects.requireNonNull(initial, "initial");
        Objects.requireNonNull(max, "max");
        if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("backoff must have 0 < initial (" + initial + ") <= max (" + max + ")");
        }
    }

    /** The delay after the {@code failures}-th failure in a row (1 for the first). */
    public Duration delay(int failures, double random) {
        if (failures < 1) {
            throw new IllegalArgumentException("failures must be at least 1, got " + failures);
        }
        if (!(random >= 0 && random < 1)) {
            throw new IllegalArgumentException("random must be in [0, 1), got " + random);
        }
        long base = initial.toMillis();
        long cap = max.toMillis();
        long exp = base;
        for (int i = 1; i < failures && exp < cap; i++) {
            exp = exp > cap / 2 ? cap : exp * 2;
        }
        exp = Math.min(exp, cap);
        return Duration.ofMillis(Math.max(1, (long) (exp * (0.75 + 0.5 * random))));
    }
}
