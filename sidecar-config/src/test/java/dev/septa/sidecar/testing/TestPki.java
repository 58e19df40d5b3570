package dev.septa.sidecar.testing;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
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
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** A throwaway CA for tests (the real one lives in module {@code ca}): EC P-256 root, SPIFFE leaf certificates, PEM files. */
public final class TestPki {
    private static final AtomicLong SERIAL = new AtomicLong(System.nanoTime());
    private final KeyPair rootKey;
    private final X509Certificate root;

    public TestPki(String name) {
        try {
            rootKey = newKey();
            var subject = new X500Name("CN=" + name);
            var builder = new JcaX509v3CertificateBuilder(subject, BigInteger.valueOf(SERIAL.incrementAndGet()),
                    Date.from(Instant.now().minusSeconds(60)), Date.from(Instant.now().plus(Duration.ofDays(1))),
                    subject, rootKey.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            root = sign(builder);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A leaf certificate for {@code spiffeId} (may be null), plus DNS/IP SANs ({@code "dns:x"}, {@code "ip:1.2.3.4"}). */
    public Leaf issue(String spiffeId, String... extraSans) {
        return issue(spiffeId, Duration.ofHours(1), extraSans);
    }

    public Leaf issue(String spiffeId, Duration ttl, String... extraSans) {
        try {
            KeyPair key = newKey();
            var builder = new JcaX509v3CertificateBuilder(new X500Name(root.getSubjectX500Principal().getName()),
                    BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(Instant.now().minusSeconds(60)),
                    Date.from(Instant.now().plus(ttl)), new X500Name("O=septa-test"), key.getPublic());
            List<GeneralName> sans = new ArrayList<>();
            if (spiffeId != null) {
                sans.add(new GeneralName(GeneralName.uniformResourceIdentifier, spiffeId));
            }
            for (String san : extraSans) {
                if (san.startsWith("dns:")) {
                    sans.add(new GeneralName(GeneralName.dNSName, san.substring(4)));
                } else if (san.startsWith("ip:")) {
                    sans.add(new GeneralName(GeneralName.iPAddress, san.substring(3)));
                }
            }
            builder.addExtension(Extension.subjectAlternativeName, true, new GeneralNames(sans.toArray(GeneralName[]::new)));
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
            return new Leaf(sign(builder), key.getPrivate());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public X509Certificate root() {
        return root;
    }

    public String rootPem() {
        return pem("CERTIFICATE", encoded(root));
    }

    /** Writes {@code cert.pem}, {@code key.pem} and {@code ca.pem} into {@code dir}, the layout {@code septa agent} keeps. */
    public Path writeFiles(Leaf leaf, Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("cert.pem"), leaf.certPem());
        Files.writeString(dir.resolve("key.pem"), leaf.keyPem());
        Files.writeString(dir.resolve("ca.pem"), rootPem());
        return dir;
    }

    private X509Certificate sign(JcaX509v3CertificateBuilder builder) throws Exception {
        var signer = new JcaContentSignerBuilder("SHA256withECDSA").build(rootKey.getPrivate());
        return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    }

    private static KeyPair newKey() throws Exception {
        var generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    private static byte[] encoded(X509Certificate cert) {
        try {
            return cert.getEncoded();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String pem(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    }

    /** A leaf and its key. The key's PEM is PKCS#8 (grpc-java reads nothing else). */
    public record Leaf(X509Certificate cert, PrivateKey key) {
        public String certPem() {
            return pem("CERTIFICATE", encoded(cert));
        }

        public String keyPem() {
            return pem("PRIVATE KEY", key.getEncoded());
        }

        @Override
        public String toString() {
            return "Leaf[" + cert.getSubjectX500Principal() + "]";
        }
    }
}
