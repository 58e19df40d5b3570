package dev.septa.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileCaKeyStoreTest {

    static final CaConfig CONFIG = CaConfig.forTrustDomain("cluster.local");

    @TempDir
    Path parent;
    Path dir;

    @BeforeEach
    void createStore() {
        dir = parent.resolve("ca");
        CertificateAuthority.open(new FileCaKeyStore(dir), CONFIG);
    }

    @Test
    void firstStartWritesOwnerOnlyKeyAndARestartKeepsTheSameRoot() throws Exception {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("signing-key.pem")))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwx------");
        assertThat(Files.readString(dir.resolve("signing-key.pem"))).startsWith("-----BEGIN PRIVATE KEY-----\n");
        assertThat(Files.readString(dir.resolve("trust-domain"))).isEqualTo("cluster.local\n");
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("signing-key.pem", "trust-domain", "trust-bundle.pem", "signing-chain.pem");
        }
        Map<String, byte[]> before = snapshot();

        CertificateAuthority first = CertificateAuthority.open(new FileCaKeyStore(dir), CONFIG);
        CertificateAuthority second = CertificateAuthority.open(new FileCaKeyStore(dir), CONFIG);

        assertThat(second.trustBundle()).isEqualTo(first.trustBundle());
        assertThat(snapshot()).usingRecursiveComparison().isEqualTo(before);
        // A certificate issued after the restart verifies with the root from before it.
        var leaf = second.issue(TestKeys.pair("leaf-p256.pem").getPublic(), WorkloadIssuanceTest.PAYMENTS, CONFIG.defaultTtl());
        leaf.leaf().verify(first.trustBundle().roots().getFirst().getPublicKey());
    }

    @Test
    void opensslReadsTheStoredKeyAndItMatchesTheRoot() {
        String keyModulus = Openssl.ok(dir, "pkey", "-in", "signing-key.pem", "-pubout");
        String certKey = Openssl.ok(dir, "x509", "-in", "signing-chain.pem", "-noout", "-pubkey");
        assertThat(keyModulus).isEqualTo(certKey);
    }

    @Test
    void missingFile() throws Exception {
        Files.delete(dir.resolve("trust-bundle.pem"));
        assertRefused().hasMessageContaining("is incomplete: [trust-bundle.pem] missing")
                .hasMessageContaining("not replaced automatically");
    }

    @Test
    void halfWrittenStoreWithLeftoverTempFile() throws Exception {
        // What a crash during the first save leaves: key written, temp file for the next, nothing else.
        Files.delete(dir.resolve("signing-chain.pem"));
        Files.delete(dir.resolve("trust-bundle.pem"));
        Files.writeString(dir.resolve(".trust-bundle.pem12345.tmp"), "-----BEGIN CERT");
        assertRefused().hasMessageContaining("[trust-bundle.pem, signing-chain.pem] missing");
    }

    @Test
    void truncatedKey() throws Exception {
        Path key = dir.resolve("signing-key.pem");
        String pem = Files.readString(key);
        Files.writeString(key, pem.substring(0, pem.length() / 2));
        assertRefused().hasMessageContaining(key + ":1: '-----BEGIN PRIVATE KEY-----' has no END line (truncated file?)");
    }

    @Test
    void keyWithALineMissing() throws Exception {
        Path key = dir.resolve("signing-key.pem");
        List<String> lines = Files.readAllLines(key);
        Files.write(key, List.of(lines.get(0), lines.get(1), lines.getLast()));
        assertRefused().hasMessageContaining(key + ":1: PRIVATE KEY block is not a valid")
                .hasMessageContaining("truncated or corrupted");
    }

    @Test
    void wrongKeyForTheCertificate() throws Exception {
        Path key = dir.resolve("signing-key.pem");
        Files.writeString(key, TestKeys.pem("other-p256.pem"));
        assertRefused().hasMessageContaining(key + " does not hold the private key of the first certificate in "
                + dir.resolve("signing-chain.pem"));
    }

    @Test
    void garbageInsteadOfPem() throws Exception {
        Path chain = dir.resolve("signing-chain.pem");
        Files.writeString(chain, "this is not a certificate\n");
        assertRefused().hasMessageContaining(chain + ": no PEM certificate found (expected '-----BEGIN CERTIFICATE-----')");
        Files.write(chain, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, 2});
        assertRefused().hasMessageContaining(chain + ": not a PEM file (contains non-ASCII bytes)");
    }

    @Test
    void brokenBase64InACertificate() throws Exception {
        Path bundle = dir.resolve("trust-bundle.pem");
        Files.writeString(bundle, Files.readString(bundle).replaceFirst("\n[A-Za-z0-9+/]{10}", "\n!!!!!!!!!!"));
        assertRefused().hasMessageContaining(bundle + ":1: CERTIFICATE block is not valid base64");
    }

    @Test
    void keyInTheOldSec1Format() throws Exception {
        Path key = dir.resolve("signing-key.pem");
        Path sec1 = parent.resolve("sec1.pem");
        Openssl.ok(parent, "ec", "-in", key.toString(), "-out", sec1.toString());
        Files.write(key, Files.readAllBytes(sec1));
        assertRefused().hasMessageContaining("expected a PKCS#8 'PRIVATE KEY' block, found 'EC PRIVATE KEY'"
                + " (convert it with: openssl pkcs8 -topk8 -nocrypt)");
    }

    @Test
    void keyReadableByOthers() throws Exception {
        Path key = dir.resolve("signing-key.pem");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
        assertRefused().hasMessageContaining(key + ": the CA private key is accessible to group or others (mode rw-r--r--)")
                .hasMessageContaining("chmod 600");
    }

    @Test
    void storeOfAnotherTrustDomain() {
        assertThatThrownBy(() -> CertificateAuthority.open(new FileCaKeyStore(dir), CaConfig.forTrustDomain("other.local")))
                .isInstanceOf(InvalidSigningCaException.class)
                .hasMessageContaining("belongs to trust domain 'cluster.local' but the CA is configured for 'other.local'");
    }

    @Test
    void badTrustDomainFile() throws Exception {
        Files.writeString(dir.resolve("trust-domain"), "Not A Domain\n");
        assertRefused().hasMessageContaining(dir.resolve("trust-domain") + ":1: trust domain 'Not A Domain' is not valid");
    }

    @Test
    void expiredRootIsRefusedNotReplaced() throws Exception {
        Map<String, byte[]> before = snapshot();
        MutableClock late = MutableClock.now();
        late.advance(CaConfig.DEFAULT_ROOT_LIFETIME.plusDays(1));
        assertThatThrownBy(() -> CertificateAuthority.open(new FileCaKeyStore(dir), CONFIG, late, IssuanceListener.NONE))
                .isInstanceOf(InvalidSigningCaException.class).hasMessageContaining("expired at");
        assertThat(snapshot()).usingRecursiveComparison().isEqualTo(before);
    }

    @Test
    void savingAgainReplacesFilesAtomicallyAndLeavesNoTempFiles() throws Exception {
        FileCaKeyStore store = new FileCaKeyStore(dir);
        CaMaterial fresh = RootCaGenerator.generate(CONFIG, java.time.Clock.systemUTC());
        store.save(fresh);
        assertThat(store.load()).get().extracting(CaMaterial::signingCertificate).isEqualTo(fresh.signingCertificate());
        try (var files = Files.list(dir)) {
            assertThat(files.filter(p -> p.getFileName().toString().endsWith(".tmp"))).isEmpty();
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("signing-key.pem")))).isEqualTo("rw-------");
    }

    /** Simulates a crash after every file system step of a save: the store then loads as all-old or all-new. */
    @Test
    void aSaveInterruptedAtAnyStepLeavesTheOldOrTheNewStoreNeverAMix() throws Exception {
        CaMaterial old = new FileCaKeyStore(dir).load().orElseThrow();
        java.util.List<String> steps = new java.util.ArrayList<>();
        new FileCaKeyStore(parent.resolve("probe"), steps::add).save(old);
        assertThat(steps).contains("commit", "done").hasSizeGreaterThan(6);

        for (int crashAt = 0; crashAt < steps.size(); crashAt++) {
            CaMaterial replacement = RootCaGenerator.generate(CONFIG, java.time.Clock.systemUTC());
            int limit = crashAt;
            int[] count = {0};
            FileCaKeyStore crashing = new FileCaKeyStore(dir, step -> {
                if (count[0]++ == limit) {
                    throw new IllegalStateException("crash after " + step);
                }
            });
            // A plain save first: it also finishes (or discards) what the previous round's crash left.
            CaMaterial before = RootCaGenerator.generate(CONFIG, java.time.Clock.systemUTC());
            new FileCaKeyStore(dir).save(before);
            assertThatThrownBy(() -> crashing.save(replacement)).hasMessageStartingWith("crash after");

            CaMaterial after = new FileCaKeyStore(dir).load().orElseThrow();
            boolean committed = crashAt >= steps.indexOf("commit");
            assertThat(after.signingCertificate()).as("crash after step %s (%s)", crashAt, steps.get(crashAt))
                    .isEqualTo(committed ? replacement.signingCertificate() : before.signingCertificate());
            assertThat(after.trustBundle()).isEqualTo(committed ? replacement.trustBundle() : before.trustBundle());
            assertThat(CertificateAuthority.open(new FileCaKeyStore(dir), CONFIG).signingCertificate())
                    .isEqualTo(after.signingCertificate());
        }
        // The next save (the single writer) finishes or discards what the last crash left, and the store is tidy.
        CaMaterial last = RootCaGenerator.generate(CONFIG, java.time.Clock.systemUTC());
        new FileCaKeyStore(dir).save(last);
        assertThat(new FileCaKeyStore(dir).load()).get().extracting(CaMaterial::signingCertificate).isEqualTo(last.signingCertificate());
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("signing-key.pem", "trust-domain", "trust-bundle.pem", "signing-chain.pem");
        }
    }

    private AbstractThrowableAssert<?, ? extends Throwable> assertRefused() throws Exception {
        Map<String, byte[]> before = snapshot();
        var assertion = assertThatThrownBy(() -> CertificateAuthority.open(new FileCaKeyStore(dir), CONFIG))
                .isInstanceOf(CaStoreException.class);
        assertThat(snapshot()).as("a refused store is left as it was").usingRecursiveComparison().isEqualTo(before);
        return assertion;
    }

    private Map<String, byte[]> snapshot() throws Exception {
        Map<String, byte[]> files = new TreeMap<>();
        try (var list = Files.list(dir)) {
            for (Path p : list.toList()) {
                files.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        return files;
    }
}
