package dev.septa.sidecar.agent;

import dev.septa.identity.PemReader;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
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
        // grpc-java's file_watcher reads PKCS#8 only: PemReader refuses a SEC1 ("EC PRIVATE KEY") or PKCS#1 key here,
        // where it is reported, rather than there later.
        return PemReader.privateKey(privateKeyPem, "the private key");
    }

    static List<X509Certificate> parseCertificates(String pem, String what) {
        return PemReader.certificates(pem == null ? "" : pem, "the " + what);
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
