package dev.septa.ca;

import dev.septa.identity.Pem;
import dev.septa.identity.SpiffeId;
import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

/**
 * A certificate the CA issued and verified.
 *
 * @param spiffeId the identity in its URI SAN
 * @param chain    the leaf first, then any intermediates up to but excluding the root: what a TLS peer sends
 *                 (the root is in the trust bundle, per the SPIFFE X.509-SVID spec)
 * @param root     the trust anchor the chain was verified against
 */
public record IssuedCertificate(SpiffeId spiffeId, List<X509Certificate> chain, X509Certificate root) {

    public IssuedCertificate {
        chain = List.copyOf(chain);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("an issued chain starts with its leaf");
        }
    }

    public X509Certificate leaf() {
        return chain.getFirst();
    }

    public Instant notBefore() {
        return leaf().getNotBefore().toInstant();
    }

    public Instant notAfter() {
        return leaf().getNotAfter().toInstant();
    }

    /** The CA certificate that signed the leaf: the first intermediate, or the root when the root signs. */
    public X509Certificate signer() {
        return chain.size() > 1 ? chain.get(1) : root;
    }

    public BigInteger serial() {
        return leaf().getSerialNumber();
    }

    /** The leaf then the intermediates, PEM: Envoy's {@code certificate_chain}, grpc's {@code certificate_file}. */
    public String certificateChainPem() {
        return Pem.certificates(chain);
    }

    public String leafPem() {
        return Pem.certificate(leaf());
    }

    @Override
    public String toString() {
        return "IssuedCertificate[" + spiffeId + ", serial=" + serial().toString(16) + ", notAfter=" + notAfter()
                + ", chain=" + chain.size() + "]";
    }
}
