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
        Path config = Openssl.write(dir, "ops.cnf", CONFIG);
        Path rootKey = TestKeys.path("root-p256.pem");
        Path intermediateKey = TestKeys.path("intermediate-p256.pem");
        Openssl.ok(dir, "req", "-x509", "-new", "-config", config.toString(), "-extensions", "v3_root", "-key",
                rootKey.toString(), "-subj", "/O=Ops/CN=Ops Root", "-days", "30", "-out", "ops-root.pem");
        Openssl.ok(dir, "req", "-new", "-config", config.toString(), "-key", intermediateKey.toString(),
                "-subj", "/O=Ops/CN=Ops Intermediate", "-out", "ops-int.csr");
        Openssl.ok(dir, "x509", "-req", "-in", "ops-int.csr", "-CA", "ops-root.pem", "-CAkey", rootKey.toString(),
                "-set_serial", "4660", "-days", Integer.toString(intermediateDays), "-extfile", config.toString(),
                "-extensions", intermediateProfile, "-out", "ops-int.pem");
        return new OperatorPki(dir, dir.resolve("ops-root.pem"), rootKey, dir.resolve("ops-int.pem"), intermediateKey);
    }
}
