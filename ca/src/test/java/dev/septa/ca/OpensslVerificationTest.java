package dev.septa.ca;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.identity.Pem;
import dev.septa.identity.SpiffeId;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** openssl, an implementation we did not write, verifies every kind of chain the CA produces. */
class OpensslVerificationTest {

    static final SpiffeId PAYMENTS = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/payments");

    @TempDir
    Path dir;

    final CertificateAuthority ca = CertificateAuthority.open(new InMemoryCaKeyStore(), CaConfig.forTrustDomain("cluster.local"));

    @Test
    void verifiesRootToLeafForOpensslMadeCsrs() {
        Path bundle = Openssl.write(dir, "bundle.pem", ca.trustBundle().toPem());
        for (String key : List.of("leaf-p256.pem", "leaf-p384.pem", "leaf-rsa2048.pem")) {
            IssuedCertificate issued = ca.issue(Openssl.csr(dir, TestKeys.path(key)), PAYMENTS, Duration.ofHours(1));
            Path leaf = Openssl.write(dir, "leaf.pem", issued.certificateChainPem());

            assertThat(Openssl.ok(dir, "verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", bundle.toString(),
                    leaf.toString())).as(key).contains("leaf.pem: OK");
            assertThat(Openssl.ok(dir, "verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", bundle.toString(),
                    leaf.toString())).as(key).contains("leaf.pem: OK");
        }
    }

    @Test
    void leafExtensionsAsOpensslReadsThem() {
        IssuedCertificate issued = ca.issue(Openssl.csr(dir, TestKeys.path("leaf-p256.pem")), PAYMENTS, Duration.ofHours(1));
        Path leaf = Openssl.write(dir, "leaf.pem", issued.leafPem());

        String text = Openssl.ok(dir, "x509", "-in", leaf.toString(), "-noout", "-text");

        assertThat(text).containsPattern("X509v3 Subject Alternative Name: *\\n *URI:spiffe://cluster.local/ns/shop/sa/payments\\n");
        assertThat(text).doesNotContain("DNS:").doesNotContain("IP Address:").doesNotContain("email:");
        assertThat(text).containsPattern("X509v3 Basic Constraints: critical\\n *CA:FALSE\\n");
        assertThat(text).containsPattern("X509v3 Key Usage: critical\\n *Digital Signature\\n");
        assertThat(text).containsPattern("X509v3 Extended Key Usage: *\\n *TLS Web Server Authentication, TLS Web Client Authentication\\n");
        assertThat(text).contains("X509v3 Subject Key Identifier").contains("X509v3 Authority Key Identifier");
        assertThat(text).contains("Signature Algorithm: ecdsa-with-SHA256").contains("ASN1 OID: prime256v1");

        DateTimeFormatter openssl = DateTimeFormatter.ofPattern("MMM ppd HH:mm:ss yyyy 'GMT'", Locale.ROOT).withZone(ZoneOffset.UTC);
        String dates = Openssl.ok(dir, "x509", "-in", leaf.toString(), "-noout", "-dates");
        assertThat(dates).contains("notBefore=" + openssl.format(issued.notBefore()))
                .contains("notAfter=" + openssl.format(issued.notAfter()));
        assertThat(Duration.between(issued.notBefore(), issued.notAfter())).isEqualTo(Duration.ofMinutes(61));
        // valid for the next 50 minutes, not for the next 70
        assertThat(Openssl.run(dir, "x509", "-in", leaf.toString(), "-noout", "-checkend", "3000").exitCode()).isZero();
        assertThat(Openssl.run(dir, "x509", "-in", leaf.toString(), "-noout", "-checkend", "4200").exitCode()).isEqualTo(1);
    }

    @Test
    void rootAsOpensslReadsIt() {
        Path root = Openssl.write(dir, "root.pem", ca.trustBundle().toPem());
        String text = Openssl.ok(dir, "x509", "-in", root.toString(), "-noout", "-text");
        assertThat(text).containsPattern("X509v3 Basic Constraints: critical\\n *CA:TRUE\\n");
        assertThat(text).containsPattern("X509v3 Key Usage: critical\\n *Certificate Sign, CRL Sign\\n");
        assertThat(text).contains("URI:spiffe://cluster.local\n").contains("Subject: O = Septa, CN = Septa root CA cluster.local, serialNumber = ");
        assertThat(Openssl.ok(dir, "verify", "-x509_strict", "-CAfile", root.toString(), root.toString())).contains("OK");
    }

    @Test
    void verifiesRootToIntermediateToLeaf() {
        OperatorPki ops = OperatorPki.create(dir, "v3_int", 10);
        CaConfig config = CaConfig.forTrustDomain("cluster.local");
        CaMaterial material = IntermediateLoader.load(ops.intermediateCert, ops.intermediateKey, null, ops.rootCert,
                config, Clock.systemUTC());
        CertificateAuthority intermediateCa = CertificateAuthority.fromMaterial(material, config, Clock.systemUTC(),
                IssuanceListener.NONE);

        IssuedCertificate issued = intermediateCa.issue(Openssl.csr(dir, TestKeys.path("leaf-p256.pem")), PAYMENTS,
                Duration.ofHours(1));
        assertThat(issued.chain()).hasSize(2);
        Path leaf = Openssl.write(dir, "leaf.pem", issued.leafPem());
        Path untrusted = Openssl.write(dir, "untrusted.pem", Pem.certificates(issued.chain().subList(1, 2)));
        Path bundle = Openssl.write(dir, "bundle.pem", intermediateCa.trustBundle().toPem());

        assertThat(Openssl.ok(dir, "verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", bundle.toString(),
                "-untrusted", untrusted.toString(), leaf.toString())).contains("leaf.pem: OK");
        // Without the intermediate the leaf does not chain: the check above is not vacuous.
        assertThat(Openssl.run(dir, "verify", "-CAfile", bundle.toString(), leaf.toString()).exitCode()).isNotZero();
        // The whole chain PEM (leaf first) as openssl's untrusted set also verifies.
        Path chain = Openssl.write(dir, "chain.pem", issued.certificateChainPem());
        assertThat(Openssl.ok(dir, "verify", "-CAfile", bundle.toString(), "-untrusted", chain.toString(), leaf.toString()))
                .contains("OK");
    }

    @Test
    void servingCertificateVerifiesForItsHostAndIp() throws Exception {
        IssuedCertificate serving = ca.issueServingCertificate(TestKeys.pair("leaf-p256.pem").getPublic(),
                SpiffeId.of("cluster.local", "septa-system", "control-plane"), List.of("localhost"),
                List.of(InetAddress.getByName("127.0.0.1")), Duration.ofHours(24));
        Path leaf = Openssl.write(dir, "serving.pem", serving.leafPem());
        Path bundle = Openssl.write(dir, "bundle.pem", ca.trustBundle().toPem());

        assertThat(Openssl.ok(dir, "verify", "-purpose", "sslserver", "-verify_hostname", "localhost", "-CAfile",
                bundle.toString(), leaf.toString())).contains("OK");
        assertThat(Openssl.ok(dir, "verify", "-purpose", "sslserver", "-verify_ip", "127.0.0.1", "-CAfile",
                bundle.toString(), leaf.toString())).contains("OK");
        assertThat(Openssl.run(dir, "verify", "-verify_hostname", "example.com", "-CAfile", bundle.toString(),
                leaf.toString()).exitCode()).isNotZero();
        assertThat(Openssl.run(dir, "verify", "-purpose", "sslclient", "-CAfile", bundle.toString(), leaf.toString())
                .exitCode()).as("serving certificates are not client certificates").isNotZero();
    }

    @Test
    void aForeignCasLeafDoesNotVerifyAgainstOurBundle() {
        CertificateAuthority foreign = CertificateAuthority.open(new InMemoryCaKeyStore(), CaConfig.forTrustDomain("cluster.local"));
        IssuedCertificate issued = foreign.issue(Openssl.csr(dir, TestKeys.path("leaf-p256.pem")), PAYMENTS, Duration.ofHours(1));
        Path leaf = Openssl.write(dir, "foreign.pem", issued.leafPem());
        Path bundle = Openssl.write(dir, "bundle.pem", ca.trustBundle().toPem());

        Openssl.Result result = Openssl.run(dir, "verify", "-CAfile", bundle.toString(), leaf.toString());
        assertThat(result.exitCode()).isNotZero();
        assertThat(result.output()).contains("unable to get local issuer certificate");
    }
}
