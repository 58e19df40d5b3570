package dev.septa.ca;

import java.nio.file.Path;

/**
 * An operator's own PKI made with openssl: a root and an intermediate signed by it, as files, the way an operator
 * would hand them to Septa. Key files come from the pre-generated test keys.
 */
final class OperatorPki {

    static final String CONFIG = """
            [req]
            distinguished_name = dn
            [dn]
            [v3_root]
            basicConstraints = critical, CA:TRUE
            keyUsage = critical, keyCertSign, cRLSign
            subjectKeyIdentifier = hash
            [v3_int]
            basicConstraints = critical, CA:TRUE, pathlen:0
            keyUsage = critical, keyCertSign, cRLSign
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid:always
            [v3_notca]
            basicConstraints = critical, CA:FALSE
            keyUsage = critical, digitalSignature
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid:always
            """;

    final Path dir;
    final Path rootCert;
    final Path rootKey;
    final Path intermediateCert;
    final Path intermediateKey;

    private OperatorPki(Path dir, Path rootCert, Path rootKey, Path intermediateCert, Path intermediateKey) {
        this.dir = dir;
        this.rootCert = rootCert;
        this.rootKey = rootKey;
        this.intermediateCert = intermediateCert;
        this.intermediateKey = intermediateKey;
    }

    /** A root (30 days) and an intermediate of the given profile and lifetime, signed by the root. */
    static OperatorPki create(Path dir, String intermediateProfile, int intermediateDays) {
        return create(dir, "ops", "Ops", TestKeys.path("root-p256.pem"), TestKeys.path("intermediate-p256.pem"),
                intermediateProfile, intermediateDays);
    }

    /** A second, independent operator PKI (a new root and intermediate, other keys and names): a root rotation. */
    static OperatorPki createAnother(Path dir) {
        return create(dir, "ops2", "Ops2", TestKeys.path("other-p256.pem"), TestKeys.path("leaf-p256.pem"), "v3_int", 10);
    }

    /** A new intermediate under this root (another key, the same subject name, a new serial): an intermediate rotation. */
    OperatorPki renewIntermediate(String prefix) {
        Path config = dir.resolve("ops.cnf");
        Path key = TestKeys.path("other-p256.pem");
        String subject = Openssl.ok(dir, "x509", "-in", intermediateCert.toString(), "-noout", "-subject", "-nameopt", "compat")
                .strip().replaceFirst("^subject=", "");
        Openssl.ok(dir, "req", "-new", "-config", config.toString(), "-key", key.toString(), "-subj", subject,
                "-out", prefix + "-int.csr");
        Openssl.ok(dir, "x509", "-req", "-in", prefix + "-int.csr", "-CA", rootCert.toString(), "-CAkey", rootKey.toString(),
                "-set_serial", "4661", "-days", "10", "-extfile", config.toString(), "-extensions", "v3_int",
                "-out", prefix + "-int.pem");
        return new OperatorPki(dir, rootCert, rootKey, dir.resolve(prefix + "-int.pem"), key);
    }

    private static OperatorPki create(Path dir, String prefix, String org, Path rootKey, Path intermediateKey,
                                      String intermediateProfile, int intermediateDays) {
        Path config = Openssl.write(dir, "ops.cnf", CONFIG);
        Openssl.ok(dir, "req", "-x509", "-new", "-config", config.toString(), "-extensions", "v3_root", "-key",
                rootKey.toString(), "-subj", "/O=" + org + "/CN=" + org + " Root", "-days", "30", "-out", prefix + "-root.pem");
        Openssl.ok(dir, "req", "-new", "-config", config.toString(), "-key", intermediateKey.toString(),
                "-subj", "/O=" + org + "/CN=" + org + " Intermediate", "-out", prefix + "-int.csr");
        Openssl.ok(dir, "x509", "-req", "-in", prefix + "-int.csr", "-CA", prefix + "-root.pem", "-CAkey", rootKey.toString(),
                "-set_serial", "4660", "-days", Integer.toString(intermediateDays), "-extfile", config.toString(),
                "-extensions", intermediateProfile, "-out", prefix + "-int.pem");
        return new OperatorPki(dir, dir.resolve(prefix + "-root.pem"), rootKey, dir.resolve(prefix + "-int.pem"), intermediateKey);
    }
}
