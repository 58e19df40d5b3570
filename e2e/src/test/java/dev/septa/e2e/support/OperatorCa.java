package dev.septa.e2e.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * An operator's own PKI made with the openssl command line, as an operator would hand it to Septa: a root and an
 * intermediate signed by it (P-256 keys in PKCS#8 PEM). {@link #renewIntermediate} makes the successor an operator
 * issues before the intermediate expires: a new key, the same name, under the same root.
 */
public record OperatorCa(Path dir, String subject, Path root, Path rootKey, Path intermediate, Path intermediateKey) {

    private static final String CONFIG = """
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
            """;

    /** A new root "/O=org/CN=org Root" (30 days) and intermediate "/O=org/CN=org Intermediate" (10 days). */
    public static OperatorCa create(Path dir, String org) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("openssl.cnf"), CONFIG);
        String prefix = org.toLowerCase(java.util.Locale.ROOT);
        Path rootKey = key(dir, prefix + "-root.key");
        openssl(dir, "req", "-x509", "-new", "-config", "openssl.cnf", "-extensions", "v3_root", "-key", rootKey.toString(),
                "-subj", "/O=" + org + "/CN=" + org + " Root", "-days", "30", "-out", prefix + "-root.pem");
        OperatorCa withoutIntermediate = new OperatorCa(dir, "/O=" + org + "/CN=" + org + " Intermediate",
                dir.resolve(prefix + "-root.pem"), rootKey, null, null);
        return withoutIntermediate.signIntermediate(prefix + "-int", 1);
    }

    /** A successor intermediate: new key, same subject, same root. */
    public OperatorCa renewIntermediate(String name) throws IOException {
        return signIntermediate(name, 2);
    }

    private OperatorCa signIntermediate(String name, int serial) throws IOException {
        Path key = key(dir, name + ".key");
        openssl(dir, "req", "-new", "-config", "openssl.cnf", "-key", key.toString(), "-subj", subject, "-out", name + ".csr");
        openssl(dir, "x509", "-req", "-in", name + ".csr", "-CA", root.toString(), "-CAkey", rootKey.toString(),
                "-set_serial", Integer.toString(serial), "-days", "10", "-extfile", "openssl.cnf", "-extensions", "v3_int",
                "-out", name + ".pem");
        return new OperatorCa(dir, subject, root, rootKey, dir.resolve(name + ".pem"), key);
    }

    private static Path key(Path dir, String name) throws IOException {
        openssl(dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name);
        return dir.resolve(name);
    }

    /** Runs openssl in {@code dir}; its output, or an exception with it when openssl fails. */
    public static String openssl(Path dir, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException(command + " failed: " + output);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return output;
    }
}
