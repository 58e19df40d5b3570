package dev.septa.sidecar.bootstrap;

import java.nio.file.Path;

/**
 * The files {@code septa agent} keeps fresh in one directory, and grpc's file_watcher reads. {@code cert.pem} is the
 * leaf followed by its chain, {@code key.pem} the PKCS#8 private key (0600), {@code ca.pem} the trust bundle.
 */
public record CertificateFileLayout(Path dir) {
    public static final String CERT = "cert.pem";
    public static final String KEY = "key.pem";
    public static final String CA = "ca.pem";

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
}
