package dev.septa.controlplane.certs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.ca.RenewalSchedule;
import dev.septa.ca.RetryBackoff;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A quarantined workload's certificate is not renewed: it runs to its expiry; release renews it at once if it fell
 * due meanwhile. A quarantined workload that connects without a certificate gets none. Manual clock, no timing.
 */
class SecretIssuerQuarantineTest {
    private static final Instant T0 = Instant.parse("2026-12-05T08:00:00Z");

    private final SecretRenewalTest.ManualClock clock = new SecretRenewalTest.ManualClock(T0);
    private final SecretRenewalTest.FakeCertificates certificates = new SecretRenewalTest.FakeCertificates(clock);
    private final SecretRenewalTest.FakeSink sink = new SecretRenewalTest.FakeSink();
    private final SecretRenewalTest.FixedIdentities fixed = new SecretRenewalTest.FixedIdentities();
    private final Set<String> quarantined = ConcurrentHashMap.newKeySet();
    private final SecretIssuer.Identities identities = new SecretIssuer.Identities() {
        @Override
        public Optional<String> spiffeId(String nodeId) {
            return fixed.spiffeId(nodeId);
        }

        @Override
        public Duration certificateTtl() {
            return Duration.ofHours(1);
        }

        @Override
        public boolean quarantined(String nodeId) {
            return quarantined.contains(nodeId);
        }
    };
    private final SecretIssuer issuer = new SecretIssuer(certificates, identities, sink, clock, SecretIssuer.Listener.NONE,
            new SecretIssuer.Options(RenewalSchedule.DEFAULT, RetryBackoff.DEFAULT, Duration.ofDays(365), null, () -> 0.5));

    @AfterEach
    void close() {
        issuer.close();
    }

    private void connect(String node) {
        sink.connected.add(node);
        issuer.requestSecrets(node);
    }

    @Test
    void aQuarantinedCertificateIsNotRenewedAndReleaseRenewsItAtOnce() throws Exception {
        connect("shop/checkout-1");
        connect("shop/web-1");
        issuer.renewDueNow();
        assertThat(certificates.issued).hasSize(2);
        Instant expiry = issuer.renewals().stream().filter(r -> r.nodeId().equals("shop/checkout-1")).findFirst().orElseThrow().notAfter();

        quarantined.add("shop/checkout-1");
        issuer.meshChanged();
        clock.set(T0.plus(Duration.ofMinutes(30))); // both due (renewal at 50 % of one hour)
        issuer.renewDueNow();
        assertThat(certificates.issued).as("only the free workload renewed").hasSize(3);
        assertThat(certificates.issued.getLast().spiffeId()).endsWith("/sa/web-1");
        assertThat(issuer.withheld()).containsExactly("shop/checkout-1");

        clock.set(expiry.plusSeconds(1)); // dead: still nothing, and the tick does not keep trying
        issuer.renewDueNow();
        issuer.requestSecrets("shop/checkout-1"); // a reconnect does not buy a certificate either
        issuer.renewDueNow();
        assertThat(certificates.issued.stream().filter(c -> c.spiffeId().endsWith("/sa/checkout-1"))).hasSize(1);

        quarantined.remove("shop/checkout-1");
        issuer.meshChanged();
        issuer.renewDueNow();
        assertThat(certificates.issued.stream().filter(c -> c.spiffeId().endsWith("/sa/checkout-1"))).hasSize(2);
        assertThat(issuer.withheld()).isEmpty();
        assertThat(issuer.renewals().stream().filter(r -> r.nodeId().equals("shop/checkout-1")).findFirst().orElseThrow().notAfter())
                .isAfter(clock.instant());
    }

    @Test
    void aQuarantinedWorkloadWithoutACertificateGetsNone() throws Exception {
        quarantined.add("shop/checkout-1");
        connect("shop/checkout-1");
        issuer.renewDueNow();
        assertThat(certificates.issued).isEmpty();
        assertThat(sink.published.getOrDefault("shop/checkout-1", java.util.List.of())).isEmpty();
    }
}
