package dev.septa.controlplane.certs;

import dev.septa.identity.KeyedCertificate;
import java.time.Duration;
import java.util.List;

/** The control plane's view of the CA: what it needs to serve TLS and hand out SVIDs over SDS. */
public interface WorkloadCertificates {

    /** A fresh key pair and an SVID for it with {@code spiffeId} as its only URI SAN. */
    KeyedCertificate issueWorkload(String spiffeId, Duration ttl);

    /** The xDS server's own certificate (decision 0002): SPIFFE ID plus DNS and IP SANs. */
    KeyedCertificate issueServing(String spiffeId, List<String> dnsNames, List<String> ipAddresses);

    /** The trust bundle, PEM: what clients verify the server with and what SDS {@code ROOTCA} carries. */
    String trustBundlePem();

    /**
     * A value that changes whenever the signer or the trust bundle does: a certificate served to others (the
     * injection webhook's) is re-issued when it changes. Septa's CA adds the signer, since a new intermediate under
     * the same root leaves the bundle as it was.
     */
    default Object generation() {
        return trustBundlePem();
    }
}
