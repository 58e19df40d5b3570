package dev.septa.ca;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * When a workload certificate is renewed: at half its lifetime, plus or minus a random tenth of the lifetime
 * (SPIRE's schedule), so a fleet issued in the same second does not come back in the same second. Pure: the caller
 * draws {@code random} (uniform in [0, 1)) once per certificate, at issuance, and keeps the answer.
 *
 * <p>The lifetime is notBefore to notAfter as written in the certificate (the CA's back-dating included), which is
 * what every peer checks; with the defaults (1 h TTL, 1 min back-dating) renewal falls between 24.4 and 36.6 min
 * after notBefore, and at worst 23.4 min before expiry.
 */
public record RenewalSchedule(double fraction, double jitter) {

    /** 50 % ± 10 % of the lifetime. */
    public static final RenewalSchedule DEFAULT = new RenewalSchedule(0.5, 0.1);

    public RenewalSchedule {
        if (!(fraction > 0 && fraction < 1) || !(jitter >= 0) || fraction - jitter <= 0 || fraction + jitter >= 1) {
            throw new IllegalArgumentException("renewal at " + fraction + " ± " + jitter
                    + " of the lifetime must stay strictly inside the lifetime (0 < fraction ± jitter < 1)");
        }
    }

    /**
     * The instant to renew a certificate valid from {@code notBefore} to {@code notAfter}; {@code random} in [0, 1)
     * maps linearly onto [fraction - jitter, fraction + jitter) of the lifetime. Always strictly before notAfter.
     */
    public Instant renewAt(Instant notBefore, Instant notAfter, double random) {
        Objects.requireNonNull(notBefore, "notBefore");
        Objects.requireNonNull(notAfter, "notAfter");
        if (!(random >= 0 && random < 1)) {
            throw new IllegalArgumentException("random must be in [0, 1), got " + random);
        }
        if (!notAfter.isAfter(notBefore)) {
            return notBefore; // nothing valid to wait for: renew at once
        }
        long lifetimeMillis = Duration.between(notBefore, notAfter).toMillis();
        double share = fraction - jitter + 2 * jitter * random;
        return notBefore.plusMillis((long) Math.floor(lifetimeMillis * share));
    }

    /** The earliest and latest renewal instants of a certificate: the window the jitter spreads a fleet across. */
    public Instant[] window(Instant notBefore, Instant notAfter) {
        long lifetimeMillis = Duration.between(notBefore, notAfter).toMillis();
        return new Instant[] {notBefore.plusMillis((long) Math.floor(lifetimeMillis * (fraction - jitter))),
                notBefore.plusMillis((long) Math.floor(lifetimeMillis * (fraction + jitter)))};
    }
}
