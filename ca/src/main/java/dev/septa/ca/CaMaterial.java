package dev.septa.ca;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * What a CA signs with and what it publishes: the signing key and certificate, the intermediates between the
 * signer and the root (empty when the signer is the root), and the trust bundle.
 * This is what a {@link CaKeyStore} persists. {@link #toString()} never shows the key.
 */
public record CaMaterial(PrivateKey signingKey, X509Certificate signingCertificate,
                         List<X509Certificate> intermediates, TrustBundle trustBundle) {

    public CaMaterial {
        intermediates = List.copyOf(intermediates);
    }

    /** The signer then the intermediates, excluding the root. */
    public List<X509Certificate> signingChain() {
        var chain = new java.util.ArrayList<X509Certificate>(intermediates.size() + 1);
        chain.add(signingCertificate);
        chain.addAll(intermediates);
        return List.copyOf(chain);
    }

    public boolean signerIsRoot() {
        return trustBundle.contains(signingCertificate);
    }

    @Override
    public String toString() {
        return "CaMaterial[signer=" + signingCertificate.getSubjectX500Principal() + " until "
                + signingCertificate.getNotAfter().toInstant() + ", intermediates=" + intermediates.size()
                + ", " + trustBundle + ", signingKey=<redacted>]";
    }
}
