package dev.septa.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.septa.identity.PemReader;
import dev.septa.identity.SpiffeId;
import java.net.InetAddress;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkloadIssuanceTest {

    static final SpiffeId PAYMENTS = SpiffeId.of("cluster.local", "shop", "payments");

    final MutableClock clock = MutableClock.now();
    final List<String> events = new CopyOnWriteArrayList<>();
    final IssuanceListener listener = new IssuanceListener() {
        @Override
        public void issued(Kind kind, IssuedCertificate certificate, Duration latency) {
            events.add("issued " + kind + " " + certificate.spiffeId() + (latency.isNegative() ? " negative" : ""));
        }

        @Override
        public void refused(Kind kind, RefusalReason reason, Duration latency) {
            events.add("refused " + kind + " " + reason);
        }
    };
    final CertificateAuthority ca = CertificateAuthority.open(new InMemoryCaKeyStore(),
            CaConfig.forTrustDomain("cluster.local"), clock, listener);

    @Test
    void issuesAnSvidFromAnOpensslCsr(@TempDir Path dir) throws Exception {
        byte[] csr = Openssl.csr(dir, TestKeys.path("leaf-p256.pem"));

        IssuedCertificate issued = ca.issue(csr, PAYMENTS, Duration.ofHours(1));

        X509Certificate leaf = issued.leaf();
        assertThat(SpiffeId.fromCertificate(leaf)).contains(PAYMENTS);
        assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(6, PAYMENTS.uri()));
        assertThat(leaf.getPublicKey()).isEqualTo(TestKeys.pair("leaf-p256.pem").getPublic());
        assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
        assertThat(leaf.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
        assertThat(issued.notBefore()).isEqualTo(clock.instant().minus(CaConfig.DEFAULT_BACKDATE));
        assertThat(issued.notAfter()).isEqualTo(clock.instant().plus(Duration.ofHours(1)));
        assertThat(issued.chain()).containsExactly(leaf);
        assertThat(issued.root()).isEqualTo(ca.trustBundle().roots().getFirst());
        leaf.verify(issued.root().getPublicKey());
        assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("O=Septa");
        assertThat(events).containsExactly("issued WORKLOAD " + PAYMENTS.uri());
    }

    @Test
    void serialsAreRandomPositive128BitNumbers() {
        KeyPair keys = TestKeys.pair("leaf-p256.pem");
        var serials = java.util.stream.IntStream.range(0, 20)
                .mapToObj(i -> ca.issue(keys.getPublic(), PAYMENTS, Duration.ofHours(1)).serial()).toList();
        assertThat(serials).doesNotHaveDuplicates().allSatisfy(s -> {
            assertThat(s.signum()).isPositive();
            assertThat(s.bitLength()).isLessThanOrEqualTo(128);
        });
        // 20 random 128-bit numbers all below 2^100 would be a broken random source.
        assertThat(serials).anySatisfy(s -> assertThat(s.bitLength()).isGreaterThan(100));
    }

    @Test
    void defaultTtlIsOneHourAndAcceptsP384AndRsaKeys() {
        IssuedCertificate p384 = ca.issue(Csrs.plain(TestKeys.pair("leaf-p384.pem")), PAYMENTS);
        assertThat(Duration.between(clock.instant(), p384.notAfter())).isEqualTo(Duration.ofHours(1));
        IssuedCertificate rsa = ca.issue(TestKeys.pair("leaf-rsa2048.pem").getPublic(), PAYMENTS, Duration.ofMinutes(5));
        assertThat(rsa.leaf().getPublicKey().getAlgorithm()).isEqualTo("RSA");
        assertThat(Duration.between(clock.instant(), rsa.notAfter())).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void workloadCredentialCarriesAMatchingKeyThatItNeverPrints() throws Exception {
        WorkloadCredential credential = ca.issueWorkloadCredential(PAYMENTS);

        String pem = credential.privateKeyPkcs8Pem();
        assertThat(pem).startsWith("-----BEGIN PRIVATE KEY-----\n");
        assertThat(PemReader.privateKey(pem, "test")).isEqualTo(credential.privateKey());
        var signature = java.security.Signature.getInstance("SHA256withECDSA");
        signature.initSign(credential.privateKey());
        signature.update(new byte[] {1, 2, 3});
        byte[] signed = signature.sign();
        signature.initVerify(credential.certificate().leaf().getPublicKey());
        signature.update(new byte[] {1, 2, 3});
        assertThat(signature.verify(signed)).isTrue();

        String body = pem.lines().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow();
        assertThat(credential.toString()).contains("redacted").doesNotContain(body.substring(0, 20));
    }

    @Test
    void lifetimeIsCappedAtTheSignersExpiryAndRefusedWhenTooLittleIsLeft() {
        X509Certificate root = ca.signingCertificate();
        clock.set(root.getNotAfter().toInstant().minus(Duration.ofMinutes(30)));

        IssuedCertificate capped = ca.issue(TestKeys.pair("leaf-p256.pem").getPublic(), PAYMENTS, Duration.ofHours(1));
        assertThat(capped.notAfter()).isEqualTo(root.getNotAfter().toInstant());

        clock.set(root.getNotAfter().toInstant().minus(Duration.ofMinutes(4)));
        assertThatThrownBy(() -> ca.issue(TestKeys.pair("leaf-p256.pem").getPublic(), PAYMENTS, Duration.ofHours(1)))
                .isInstanceOfSatisfying(IssuanceRefusedException.class,
                        e -> assertThat(e.reason()).isEqualTo(RefusalReason.SIGNER_EXPIRING))
                .hasMessageContaining("renew the CA");
        assertThat(events).containsExactly("issued WORKLOAD " + PAYMENTS.uri(), "refused WORKLOAD SIGNER_EXPIRING");
    }

    @Test
    void servingCertificateCarriesDnsAndIpNamesAndServerAuthOnly() throws Exception {
        SpiffeId controlPlane = SpiffeId.of("cluster.local", "septa-system", "control-plane");
        IssuedCertificate serving = ca.issueServingCertificate(TestKeys.pair("leaf-p256.pem").getPublic(), controlPlane,
                List.of("localhost"), List.of(InetAddress.getByName("127.0.0.1"), InetAddress.getByName("::1")),
                Duration.ofHours(24));

        assertThat(serving.leaf().getSubjectAlternativeNames()).containsExactlyInAnyOrder(
                List.of(6, controlPlane.uri()), List.of(2, "localhost"), List.of(7, "127.0.0.1"),
                List.of(7, "0:0:0:0:0:0:0:1"));
        assertThat(serving.leaf().getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
        assertThat(events).containsExactly("issued SERVING " + controlPlane.uri());
    }

    @Test
    void servingCertificateRefusesBadDnsNames() {
        assertThatThrownBy(() -> ca.issueServingCertificate(TestKeys.pair("leaf-p256.pem").getPublic(), PAYMENTS,
                List.of("*.example.com"), List.of(), Duration.ofHours(1)))
                .isInstanceOfSatisfying(IssuanceRefusedException.class,
                        e -> assertThat(e.reason()).isEqualTo(RefusalReason.BAD_SERVING_NAME))
                .hasMessageContaining("'*.example.com' is not a DNS name");
    }

    @Test
    void concurrentIssuanceGivesValidCertificatesWithDistinctSerials() throws Exception {
        byte[] csr = Csrs.plain(TestKeys.pair("leaf-p256.pem"));
        var pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            var futures = java.util.stream.IntStream.range(0, 80)
                    .mapToObj(i -> pool.submit(() -> ca.issue(csr, PAYMENTS, Duration.ofHours(1)))).toList();
            var serials = new java.util.HashSet<java.math.BigInteger>();
            for (var future : futures) {
                IssuedCertificate issued = future.get(120, java.util.concurrent.TimeUnit.SECONDS);
                issued.leaf().verify(ca.trustBundle().roots().getFirst().getPublicKey());
                serials.add(issued.serial());
            }
            assertThat(serials).hasSize(80);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aFailingListenerDoesNotBreakIssuance() {
        CertificateAuthority noisy = CertificateAuthority.open(new InMemoryCaKeyStore(),
                CaConfig.forTrustDomain("cluster.local"), clock, new IssuanceListener() {
                    @Override
                    public void issued(Kind kind, IssuedCertificate certificate, Duration latency) {
                        throw new IllegalStateException("metrics down");
                    }
                });
        assertThat(noisy.issue(TestKeys.pair("leaf-p256.pem").getPublic(), PAYMENTS, Duration.ofHours(1)).spiffeId())
                .isEqualTo(PAYMENTS);
    }
}
