package dev.septa.identity;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;

/**
 * A certificate chain (leaf first, PEM) with the PKCS#8 PEM private key made for it. {@code signer}: the
 * fingerprint (SHA-256 of the DER, as the control plane's CA adapter computes it) of the CA certificate that signed it, so a rotation can
 * tell which workloads still hold certificates of the previous signer even when both carry the same name; null
 * when unknown. Never printed whole.
 */
public record KeyedCertificate(String spiffeId, String certificateChainPem, String privateKeyPem,
                               Instant notBefore, Instant notAfter, String signer) {

    public KeyedCertificate(String spiffeId, String certificateChainPem, String privateKeyPem, Instant notBefore, Instant notAfter) {
        this(spiffeId, certificateChainPem, privateKeyPem, notBefore, notAfter, null);
    }

    /** The chain as certificates, leaf first, for a TLS key manager. */
    public X509Certificate[] certificateChain() {
        return PemReader.certificates(certificateChainPem, "certificate chain of " + spiffeId).toArray(X509Certificate[]::new);
    }

    /** The private key, for a TLS key manager. */
    public PrivateKey privateKey() {
        return PemReader.privateKey(privateKeyPem, "private key of " + spiffeId);
    }

    @Override
    public String toString() {
        return "KeyedCertificate[" + spiffeId + ", notAfter=" + notAfter + ", key=<redacted>]";
    }
}
