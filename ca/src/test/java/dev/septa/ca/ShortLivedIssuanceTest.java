package dev.septa.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.septa.identity.SpiffeId;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Seconds-long certificates for tests and demos: allowed only when the minimum TTL is lowered on purpose. */
class ShortLivedIssuanceTest {
    static final SpiffeId WEB = SpiffeId.of("cluster.local", "shop", "web");
    final MutableClock clock = MutableClock.now();

    @Test
    void theDefaultMinimumRefusesSecondsLongCertificates() {
        var ca = CertificateAuthority.open(new InMemoryCaKeyStore(), CaConfig.forTrustDomain("cluster.local"), clock,
                IssuanceListener.NONE);
        assertThatThrownBy(() -> ca.issueWorkloadCredential(WEB, Duration.ofSeconds(10)))
                .isInstanceOf(IssuanceRefusedException.class).hasMessageContaining("outside the allowed range 5m");
    }

    @Test
    void aLoweredMinimumIssuesThemWithBackdatingShrunkToWholeSeconds() {
        for (int minSeconds : new int[] {2, 3, 5, 9}) {
            CaConfig config = CaConfig.forTrustDomain("cluster.local").withTtlRange(Duration.ofSeconds(minSeconds), CaConfig.DEFAULT_MAX_TTL);
            assertThat(config.backdate()).isEqualTo(Duration.ofSeconds(minSeconds / 2));
            var ca = CertificateAuthority.open(new InMemoryCaKeyStore(), config, clock, IssuanceListener.NONE);
            IssuedCertificate cert = ca.issueWorkloadCredential(WEB, Duration.ofSeconds(10)).certificate();
            assertThat(Duration.between(cert.notBefore(), cert.notAfter())).isEqualTo(Duration.ofSeconds(10 + minSeconds / 2));
            // Renewal at 50% ± 10% of that lifetime leaves at least 40% of it before expiry.
            assertThat(RenewalSchedule.DEFAULT.renewAt(cert.notBefore(), cert.notAfter(), 0.99)).isBefore(cert.notAfter().minusSeconds(4));
        }
    }
}
