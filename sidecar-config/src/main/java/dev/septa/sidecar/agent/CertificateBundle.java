package dev.septa.sidecar.agent;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.Base64;
import java.util.List;

/**
 * A workload's SVID (leaf then chain, PEM), its PKCS#8 private key (PEM) and the trust bundle (PEM), checked to belong
 * together before anything is written. {@link #toString()} never shows the key.
 */
public record CertificateBundle(String certificateChainPem, String privateKeyPem, String trustBundlePem) {

    /** Parses and cross-checks the three parts; throws {@link IllegalArgumentException} saying what is wrong. */
    public static CertificateBundle verified(String chainPem, String keyPem, String trustPem) {
        var bundle = new CertificateBundle(chainPem, keyPem, trustPem);
        List<X509Certificate> chain = parseCertificates(chainPem, "certificate chain");
        parseCertificates(trustPem, "trust bundle");
        PrivateKey key = bundle.privateKey();
        if (!keyMatches(key, chain.getFirst())) {
            throw new IllegalArgumentException("the private key does not belong to the certificate");
        }
        return bundle;
    }

    public X509Certificate leaf() {
        return parseCertificates(certificateChainPem, "certificate chain").getFirst();
    }

    public Instant notAfter() {
        return leaf().getNotAfter().toInstant();
    }

    PrivateKey privateKey() {
        String begin = "-----BEGIN PRIVATE KEY-----";
        int start = privateKeyPem.indexOf(begin);
        int end = privateKeyPem.indexOf("-----END PRIVATE KEY-----");
        if (start < 0 || end < start) {
            // grpc-java's file_watcher reads PKCS#8 only: a SEC1 ("EC PRIVATE KEY") or PKCS#1 key would fail there later.
            throw new IllegalArgumentException("the private key is not a PKCS#8 PEM (BEGIN PRIVATE KEY)");
        }
        byte[] der = Base64.getMimeDecoder().decode(privateKeyPem.substring(start + begin.length(), end));
        for (String algorithm : List.of("EC", "RSA", "Ed25519")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        throw new IllegalArgumentException("the private key is not an EC, RSA or Ed25519 PKCS#8 key");
    }

    static List<X509Certificate> parseCertificates(String pem, String what) {
        if (pem == null || !pem.contains("-----BEGIN CERTIFICATE-----")) {
            throw new IllegalArgumentException("the " + what + " has no PEM certificate");
        }
        try {
            var certificates = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
            return certificates.stream().map(X509Certificate.class::cast).toList();
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("the " + what + " does not parse: " + e.getMessage());
        }
    }

    private static boolean keyMatches(PrivateKey key, X509Certificate certificate) {
        String algorithm = switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            default -> key.getAlgorithm();
        };
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(challenge);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return "CertificateBundle[" + leaf().getSubjectX500Principal() + ", notAfter=" + notAfter() + "]";
    }
}
