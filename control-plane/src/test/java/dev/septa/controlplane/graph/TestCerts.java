package dev.septa.controlplane.graph;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;

/** A throwaway CA and leaf certificates with SPIFFE URI SANs, for TLS on loopback in tests. */
final class TestCerts {
    record Issued(KeyPair keys, X509Certificate cert) {
    }

    private static final AtomicLong SERIAL = new AtomicLong(1);
    final Issued ca;

    TestCerts() throws Exception {
        KeyPair k = keys();
        ca = new Issued(k, sign(new X500Name("CN=test-ca"), k, new X500Name("CN=test-ca"), k, true, null));
    }

    Issued leaf(String cn, GeneralName... sans) throws Exception {
        KeyPair k = keys();
        return new Issued(k, sign(new X500Name("CN=" + cn), k, new X500Name("CN=test-ca"), ca.keys(), false, sans));
    }

    Issued spiffe(String id) throws Exception {
        return leaf("workload", new GeneralName(GeneralName.uniformResourceIdentifier, id));
    }

    private static KeyPair keys() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static X509Certificate sign(X500Name subject, KeyPair subjectKeys, X500Name issuer, KeyPair issuerKeys,
                                        boolean isCa, GeneralName[] sans) throws Exception {
        Instant now = Instant.now();
        var b = new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIAL.getAndIncrement()),
                Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(Duration.ofHours(1))), subject, subjectKeys.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
        if (sans != null && sans.length > 0) {
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
        }
        var signer = new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKeys.getPrivate());
        return new JcaX509CertificateConverter().getCertificate(b.build(signer));
    }
}
