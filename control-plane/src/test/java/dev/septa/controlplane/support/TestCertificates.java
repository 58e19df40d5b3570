package dev.septa.controlplane.support;

import dev.septa.identity.KeyedCertificate;
import dev.septa.controlplane.certs.WorkloadCertificates;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** A small in-memory CA for tests of the control plane alone (the real one is module {@code ca}). */
public final class TestCertificates implements WorkloadCertificates {
    private final KeyPair rootKey;
    private final X509Certificate root;
    private final AtomicLong serial = new AtomicLong(2);
    public final AtomicLong issuedWorkloads = new AtomicLong();

    public TestCertificates(String commonName) {
        try {
            rootKey = keyPair();
            X500Name name = new X500Name("O=Septa Test,CN=" + commonName);
            Instant now = Instant.now();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.ONE,
                    Date.from(now.minusSeconds(60)), Date.from(now.plus(Duration.ofDays(1))), name, rootKey.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            root = sign(b);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public KeyedCertificate issueWorkload(String spiffeId, Duration ttl) {
        issuedWorkloads.incrementAndGet();
        return issue(spiffeId, List.of(), List.of(), ttl);
    }

    @Override
    public KeyedCertificate issueServing(String spiffeId, List<String> dnsNames, List<String> ipAddresses) {
        return issue(spiffeId, dnsNames, ipAddresses, Duration.ofHours(1));
    }

    public KeyedCertificate issue(String spiffeId, List<String> dns, List<String> ips, Duration ttl) {
        try {
            KeyPair kp = keyPair();
            Instant now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
            Instant notBefore = now.minusSeconds(1);
            Instant notAfter = now.plus(ttl);
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
                    root, BigInteger.valueOf(serial.getAndIncrement()),
                    Date.from(notBefore), Date.from(notAfter), new X500Name("O=Septa Test"), kp.getPublic());
            List<GeneralName> sans = new ArrayList<>();
            sans.add(new GeneralName(GeneralName.uniformResourceIdentifier, spiffeId));
            dns.forEach(d -> sans.add(new GeneralName(GeneralName.dNSName, d)));
            ips.forEach(ip -> sans.add(new GeneralName(GeneralName.iPAddress, ip)));
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(GeneralName[]::new)));
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
            b.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            X509Certificate leaf = sign(b);
            return new KeyedCertificate(spiffeId, pem("CERTIFICATE", leaf.getEncoded()),
                    pem("PRIVATE KEY", kp.getPrivate().getEncoded()), notBefore, notAfter);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String trustBundlePem() {
        try {
            return pem("CERTIFICATE", root.getEncoded());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private X509Certificate sign(JcaX509v3CertificateBuilder b) throws Exception {
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(rootKey.getPrivate())));
    }

    private static KeyPair keyPair() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
