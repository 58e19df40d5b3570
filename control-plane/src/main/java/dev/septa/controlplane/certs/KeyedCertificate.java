package dev.septa.controlplane.certs;

import java.time.Instant;

/** A certificate chain (leaf first, PEM) with the PKCS#8 PEM private key made for it. Never printed whole. */
public record KeyedCertificate(String spiffeId, String certificateChainPem, String privateKeyPem,
                               Instant notBefore, Instant notAfter) {
    @Override
    public String toString() {
        return "KeyedCertificate[" + spiffeId + ", notAfter=" + notAfter + ", key=<redacted>]";
    }
}
