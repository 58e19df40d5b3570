package dev.septa.controlplane.certs;

import java.time.Instant;

/**
 * A certificate chain (leaf first, PEM) with the PKCS#8 PEM private key made for it. {@code signer}: the
 * fingerprint ({@link CaWorkloadCertificates#fingerprint}) of the CA certificate that signed it, so a rotation can
 * tell which workloads still hold certificates of the previous signer even when both carry the same name; null
 * when unknown. Never printed whole.
 */
public record KeyedCertificate(String spiffeId, String certificateChainPem, String privateKeyPem,
                               Instant notBefore, Instant notAfter, String signer) {

    public KeyedCertificate(String spiffeId, String certificateChainPem, String privateKeyPem, Instant notBefore, Instant notAfter) {
        this(spiffeId, certificateChainPem, privateKeyPem, notBefore, notAfter, null);
    }

    @Override
    public String toString() {
        return "KeyedCertificate[" + spiffeId + ", notAfter=" + notAfter + ", key=<redacted>]";
    }
}
