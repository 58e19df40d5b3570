package dev.septa.ca;

import dev.septa.identity.SpiffeId;
import java.time.Duration;
import java.util.Objects;

/**
 * CA settings. Defaults: workload TTL 1 hour, allowed TTL 5 minutes to 24 hours, self-generated root valid for
 * one year, certificates back-dated 1 minute so that peers with a slightly slow clock accept them at once.
 */
public record CaConfig(String trustDomain, Duration defaultTtl, Duration minTtl, Duration maxTtl,
                       Duration rootLifetime, Duration backdate) {

    public static final Duration DEFAULT_TTL = Duration.ofHours(1);
    public static final Duration DEFAULT_MIN_TTL = Duration.ofMinutes(5);
    public static final Duration DEFAULT_MAX_TTL = Duration.ofHours(24);
    public static final Duration DEFAULT_ROOT_LIFETIME = Duration.ofDays(365);
    public static final Duration DEFAULT_BACKDATE = Duration.ofMinutes(1);

    public CaConfig {
        SpiffeId.requireTrustDomain(trustDomain);
        Objects.requireNonNull(defaultTtl, "defaultTtl");
        Objects.requireNonNull(minTtl, "minTtl");
        Objects.requireNonNull(maxTtl, "maxTtl");
        Objects.requireNonNull(rootLifetime, "rootLifetime");
        Objects.requireNonNull(backdate, "backdate");
        if (minTtl.isNegative() || minTtl.isZero() || minTtl.compareTo(maxTtl) > 0) {
            throw new IllegalArgumentException("minimum TTL " + minTtl + " must be positive and at most the maximum " + maxTtl);
        }
        if (defaultTtl.compareTo(minTtl) < 0 || defaultTtl.compareTo(maxTtl) > 0) {
            throw new IllegalArgumentException("default TTL " + defaultTtl + " must be between " + minTtl + " and " + maxTtl);
        }
        if (rootLifetime.compareTo(maxTtl.multipliedBy(2)) < 0) {
            throw new IllegalArgumentException("root lifetime " + rootLifetime + " must be at least twice the maximum TTL " + maxTtl);
        }
        if (backdate.isNegative() || backdate.compareTo(minTtl) >= 0) {
            throw new IllegalArgumentException("backdate " + backdate + " must be between 0 and the minimum TTL " + minTtl);
        }
    }

    public static CaConfig forTrustDomain(String trustDomain) {
        return new CaConfig(trustDomain, DEFAULT_TTL, DEFAULT_MIN_TTL, DEFAULT_MAX_TTL, DEFAULT_ROOT_LIFETIME, DEFAULT_BACKDATE);
    }

    public CaConfig withDefaultTtl(Duration ttl) {
        return new CaConfig(trustDomain, ttl, minTtl, maxTtl, rootLifetime, backdate);
    }

    /**
     * Another allowed TTL range. A minimum below twice the back-dating (short-lived certificates for tests and
     * demos) shrinks the back-dating to half the minimum, so that back-dating never dominates a lifetime.
     */
    public CaConfig withTtlRange(Duration min, Duration max) {
        // Whole seconds: X.509 validity has one-second resolution.
        Duration half = min == null ? null : Duration.ofSeconds(Math.max(0, min.dividedBy(2).toSeconds()));
        Duration bd = half != null && backdate.compareTo(half) > 0 ? half : backdate;
        return new CaConfig(trustDomain, defaultTtl, min, max, rootLifetime, bd);
    }

    public CaConfig withRootLifetime(Duration lifetime) {
        return new CaConfig(trustDomain, defaultTtl, minTtl, maxTtl, lifetime, backdate);
    }
}
