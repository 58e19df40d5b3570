package dev.septa.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.septa.identity.PemReader;
import dev.septa.identity.SpiffeId;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.assertj.core.api.AbstractThrowableAssert;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** One test per refusal; each also checks that the metrics hook saw the reason. */
class IssuanceRefusalTest {

    static final SpiffeId PAYMENTS = SpiffeId.of("cluster.local", "shop", "payments");
    static final Duration HOUR = Duration.ofHours(1);

    @TempDir
    Path dir;

    final List<RefusalReason> refusals = new CopyOnWriteArrayList<>();
    final CertificateAuthority ca = CertificateAuthority.open(new InMemoryCaKeyStore(), CaConfig.forTrustDomain("cluster.local"),
            MutableClock.now(), new IssuanceListener() {
                @Override
                public void refused(Kind kind, RefusalReason reason, Duration latency) {
                    refusals.add(reason);
                }
            });
    final KeyPair leafKeys = TestKeys.pair("leaf-p256.pem");

    @Test
    void csrWhoseSignatureDoesNotVerify() {
        byte[] csr = Csrs.plain(leafKeys);
        csr[csr.length - 1] ^= 0x01; // last byte of the signature's s value

        assertRefused(() -> ca.issue(csr, PAYMENTS, HOUR), RefusalReason.BAD_CSR_SIGNATURE)
                .hasMessageContaining("does not verify").hasMessageContaining("possession of the private key");
    }

    @Test
    void csrSignedByAnotherKey() {
        // The request carries the leaf's public key but is signed with a different private key.
        KeyPair mixed = new KeyPair(leafKeys.getPublic(), TestKeys.pair("other-p256.pem").getPrivate());
        assertRefused(() -> ca.issue(Csrs.plain(mixed), PAYMENTS, HOUR), RefusalReason.BAD_CSR_SIGNATURE);
    }

    @Test
    void bytesThatAreNotACsr() {
        assertRefused(() -> ca.issue("hello".getBytes(StandardCharsets.US_ASCII), PAYMENTS, HOUR), RefusalReason.MALFORMED_CSR)
                .hasMessageContaining("not a PKCS#10 certificate request");
        byte[] certPem = ca.trustBundle().toPem().getBytes(StandardCharsets.US_ASCII);
        assertRefused(() -> ca.issue(certPem, PAYMENTS, HOUR), RefusalReason.MALFORMED_CSR)
                .hasMessageContaining("expected one '-----BEGIN CERTIFICATE REQUEST-----' PEM block, found [CERTIFICATE]");
        assertRefused(() -> ca.issue(new byte[0], PAYMENTS, HOUR), RefusalReason.MALFORMED_CSR).hasMessageContaining("empty");
        assertRefused(() -> ca.issue(new byte[100_000], PAYMENTS, HOUR), RefusalReason.MALFORMED_CSR)
                .hasMessageContaining("the CSR is 100000 bytes; at most 65536 are accepted");
    }

    @Test
    void spiffeIdOutsideTheTrustDomain() {
        SpiffeId foreign = SpiffeId.of("evil.example", "shop", "payments");
        assertRefused(() -> ca.issue(Csrs.plain(leafKeys), foreign, HOUR), RefusalReason.FOREIGN_TRUST_DOMAIN)
                .hasMessageContaining("spiffe://evil.example/ns/shop/sa/payments is outside trust domain 'cluster.local'");
    }

    @Test
    void spiffeIdOfTheWrongFormCannotEvenBeRequested() {
        assertThatThrownBy(() -> SpiffeId.parse("spiffe://cluster.local/payments"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("the path must be exactly /ns/<namespace>/sa/<serviceAccount>");
    }

    @Test
    void csrAskingForAnotherSpiffeId() {
        byte[] csr = Csrs.withExtension(leafKeys, Extension.subjectAlternativeName, false, new GeneralNames(
                new GeneralName(GeneralName.uniformResourceIdentifier, "spiffe://cluster.local/ns/shop/sa/admin")));
        assertRefused(() -> ca.issue(csr, PAYMENTS, HOUR), RefusalReason.EXTRA_SAN)
                .hasMessageContaining("URI:spiffe://cluster.local/ns/shop/sa/admin");
    }

    @Test
    void csrAskingForExtraSans() {
        byte[] csr = Openssl.csr(dir, TestKeys.path("leaf-p256.pem"), "-addext",
                "subjectAltName=URI:" + PAYMENTS.uri() + ",DNS:payments.example.com,IP:10.0.0.1");
        assertRefused(() -> ca.issue(csr, PAYMENTS, HOUR), RefusalReason.EXTRA_SAN)
                .hasMessageContaining("[DNS:payments.example.com, IP:10.0.0.1]")
                .hasMessageContaining("exactly one SAN, the URI " + PAYMENTS.uri());
    }

    @Test
    void csrAskingForExactlyItsOwnSpiffeIdIsAccepted() {
        byte[] csr = Openssl.csr(dir, TestKeys.path("leaf-p256.pem"), "-addext", "subjectAltName=URI:" + PAYMENTS.uri());
        assertThat(ca.issue(csr, PAYMENTS, HOUR).spiffeId()).isEqualTo(PAYMENTS);
        assertThat(refusals).isEmpty();
    }

    @Test
    void csrAskingForCaRights() {
        byte[] csr = Openssl.csr(dir, TestKeys.path("leaf-p256.pem"), "-addext", "basicConstraints=critical,CA:TRUE");
        assertRefused(() -> ca.issue(csr, PAYMENTS, HOUR), RefusalReason.CA_REQUESTED)
                .hasMessageContaining("basicConstraints CA:true");
    }

    @Test
    void csrAskingForCertificateSigningKeyUsage() {
        byte[] csr = Csrs.withExtension(leafKeys, Extension.keyUsage, true,
                new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyCertSign));
        assertRefused(() -> ca.issue(csr, PAYMENTS, HOUR), RefusalReason.CA_REQUESTED).hasMessageContaining("keyCertSign");
        byte[] notCa = Csrs.withExtension(leafKeys, Extension.basicConstraints, true, new BasicConstraints(false));
        assertThat(ca.issue(notCa, PAYMENTS, HOUR).leaf().getBasicConstraints()).isEqualTo(-1);
    }

    @Test
    void rsa1024Key() {
        byte[] csr = Openssl.csr(dir, TestKeys.path("weak-rsa1024.pem"));
        assertRefused(() -> ca.issue(csr, PAYMENTS, HOUR), RefusalReason.WEAK_OR_UNSUPPORTED_KEY)
                .hasMessageContaining("RSA-1024 is not accepted");
    }

    @Test
    void p192Key() {
        byte[] csr = Openssl.csr(dir, TestKeys.path("weak-p192.pem"));
        assertRefused(() -> ca.issue(csr, PAYMENTS, HOUR), RefusalReason.WEAK_OR_UNSUPPORTED_KEY)
                .hasMessageContaining("EC curve").hasMessageContaining("1.2.840.10045.3.1.1").hasMessageContaining("use P-256");
    }

    @Test
    void ed25519Key() {
        byte[] csr = Openssl.csr(dir, TestKeys.path("leaf-ed25519.pem"));
        assertRefused(() -> ca.issue(csr, PAYMENTS, HOUR), RefusalReason.WEAK_OR_UNSUPPORTED_KEY)
                .hasMessageContaining("Ed25519 keys are not supported");
        assertRefused(() -> ca.issue(TestKeys.pair("leaf-ed25519.pem").getPublic(), PAYMENTS, HOUR),
                RefusalReason.WEAK_OR_UNSUPPORTED_KEY);
    }

    @ParameterizedTest
    @ValueSource(strings = {"PT0S", "PT-1H", "PT4M59S", "PT24H1S", "P365D"})
    void ttlOutsideTheAllowedRange(String ttl) {
        assertRefused(() -> ca.issue(leafKeys.getPublic(), PAYMENTS, Duration.parse(ttl)), RefusalReason.TTL_OUT_OF_RANGE)
                .hasMessageContaining("outside the allowed range 5m to 24h");
    }

    @Test
    void ttlAtTheEdgesOfTheRangeIsAccepted() {
        assertThat(ca.issue(leafKeys.getPublic(), PAYMENTS, Duration.ofMinutes(5)).spiffeId()).isEqualTo(PAYMENTS);
        assertThat(ca.issue(leafKeys.getPublic(), PAYMENTS, Duration.ofHours(24)).spiffeId()).isEqualTo(PAYMENTS);
    }

    @Test
    void aCertificateThatFailsSelfVerificationIsNeverReturned() throws Exception {
        // The validator of one CA given a certificate signed by another.
        CertificateAuthority other = CertificateAuthority.open(new InMemoryCaKeyStore(), CaConfig.forTrustDomain("cluster.local"));
        IssuedCertificate foreign = other.issue(leafKeys.getPublic(), PAYMENTS, HOUR);
        var validator = new IssuedCertificateValidator(ca.signingCertificate());
        var expected = new IssuedCertificateValidator.Expected(leafKeys.getPublic(), PAYMENTS, List.of(), List.of(), false,
                foreign.serial(), foreign.notBefore(), foreign.notAfter());

        assertThatThrownBy(() -> validator.validate(foreign.leaf(), expected))
                .isInstanceOfSatisfying(IssuanceRefusedException.class,
                        e -> assertThat(e.reason()).isEqualTo(RefusalReason.SELF_CHECK_FAILED))
                .hasMessageContaining("issuer is not the signer");
        // Same CA, but the template said another SPIFFE ID: the extension check must catch it.
        IssuedCertificate own = ca.issue(leafKeys.getPublic(), PAYMENTS, HOUR);
        var wrongId = new IssuedCertificateValidator.Expected(leafKeys.getPublic(), SpiffeId.of("cluster.local", "shop", "x"),
                List.of(), List.of(), false, own.serial(), own.notBefore(), own.notAfter());
        assertThatThrownBy(() -> validator.validate(own.leaf(), wrongId)).hasMessageContaining("subject alternative names differ");
        // A flipped bit in the signature.
        byte[] der = own.leaf().getEncoded();
        der[der.length - 1] ^= 0x01;
        var tampered = PemReader.certificate(der, "test");
        var right = new IssuedCertificateValidator.Expected(leafKeys.getPublic(), PAYMENTS, List.of(), List.of(), false,
                own.serial(), own.notBefore(), own.notAfter());
        validator.validate(own.leaf(), right);
        assertThatThrownBy(() -> validator.validate(tampered, right))
                .hasMessageContaining("signature does not verify with the signer's public key");
    }

    private AbstractThrowableAssert<?, ? extends Throwable> assertRefused(Runnable call, RefusalReason reason) {
        int before = refusals.size();
        var assertion = assertThatThrownBy(call::run)
                .isInstanceOfSatisfying(IssuanceRefusedException.class, e -> assertThat(e.reason()).isEqualTo(reason));
        assertThat(refusals).hasSize(before + 1).last().isEqualTo(reason);
        return assertion;
    }
}
