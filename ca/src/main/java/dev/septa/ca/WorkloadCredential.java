package dev.septa.ca;

import dev.septa.identity.Pem;
import java.security.PrivateKey;

/**
 * A key pair the control plane made for a workload, with its certificate: what SDS {@code default} serves.
 * The private key is reachable only through {@link #privateKey()} and {@link #privateKeyPkcs8Pem()};
 * {@link #toString()} never shows it.
 */
public record WorkloadCredential(PrivateKey privateKey, IssuedCertificate certificate) {

    /** PKCS#8 PEM, the key format Envoy and grpc-java's file watcher read. */
    public String privateKeyPkcs8Pem() {
        return Pem.privateKeyPkcs8(privateKey);
    }

    @Override
    public String toString() {
        return "WorkloadCredential[" + certificate + ", privateKey=<redacted " + privateKey.getAlgorithm() + ">]";
    }
}
