package dev.septa.sidecar.bootstrap;

import java.nio.file.Path;

/**
 * The files {@code septa agent} keeps fresh in one directory, and grpc's file_watcher (or an Envoy beside the agent)
 * reads. {@code cert.pem} is the leaf followed by its chain, {@code key.pem} the PKCS#8 private key (0600),
 * {@code ca.pem} the trust bundle; {@code envoy-sds.json} is the file-based SDS resource through which Envoy reads
 * the first two and reloads them when the agent swaps them ({@link EnvoySvidFiles}).
 */
public record CertificateFileLayout(Path dir) {
    public static final String CERT = "cert.pem";
    public static final String KEY = "key.pem";
    public static final String CA = "ca.pem";
    public static final String ENVOY_SDS = "envoy-sds.json";

    public CertificateFileLayout {
        dir = dir.toAbsolutePath().normalize();
    }

    public Path cert() {
        return dir.resolve(CERT);
    }

    public Path key() {
        return dir.resolve(KEY);
    }

    public Path ca() {
        return dir.resolve(CA);
    }

    public Path envoySds() {
        return dir.resolve(ENVOY_SDS);
    }
}
