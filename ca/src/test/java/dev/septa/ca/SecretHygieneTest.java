package dev.septa.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.septa.identity.Pem;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Private keys never appear in toString(), exception messages or logs. */
class SecretHygieneTest {

    @TempDir
    Path dir;

    @Test
    void toStringsNeverShowKeys() {
        CertificateAuthority ca = CertificateAuthority.open(new FileCaKeyStore(dir), CaConfig.forTrustDomain("cluster.local"));
        CaMaterial material = new FileCaKeyStore(dir).load().orElseThrow();
        WorkloadCredential credential = ca.issueWorkloadCredential(WorkloadIssuanceTest.PAYMENTS);
        var signer = new CertificateSigner(material.signingKey(), material.signingCertificate());

        for (Object o : List.of(ca, material, credential, signer, new FileCaKeyStore(dir))) {
            String text = o.toString();
            assertThat(text).doesNotContainPattern("[A-Za-z0-9+/]{40,}");
            assertNoKeyMaterial(text, material.signingKey().getEncoded());
            assertNoKeyMaterial(text, credential.privateKey().getEncoded());
        }
        assertThat(material.toString()).contains("signingKey=<redacted>");
        assertThat(credential.toString()).contains("privateKey=<redacted EC>");
    }

    @Test
    void corruptKeyErrorsQuoteNoKeyBytes() throws Exception {
        CertificateAuthority.open(new FileCaKeyStore(dir), CaConfig.forTrustDomain("cluster.local"));
        Path key = dir.resolve(FileCaKeyStore.KEY_FILE);
        String pem = Files.readString(key);
        List<String> body = pem.lines().filter(l -> !l.startsWith("-----")).toList();

        // Damage the DER inside otherwise valid base64, so that the parser sees the real key bytes.
        byte[] der = Base64.getDecoder().decode(String.join("", body));
        der[der.length / 2] ^= (byte) 0xff;
        der[3] ^= 0x7f;
        Files.writeString(key, Pem.block("PRIVATE KEY", der));
        Throwable damaged = catchThrowable(() -> new FileCaKeyStore(dir).load());
        Files.writeString(key, pem.substring(0, pem.length() - 40));
        Throwable truncated = catchThrowable(() -> new FileCaKeyStore(dir).load());

        for (Throwable t : List.of(damaged, truncated)) {
            assertThat(t).isInstanceOf(CaStoreException.class);
            for (Throwable c = t; c != null; c = c.getCause()) {
                for (String line : body) {
                    assertThat(String.valueOf(c.getMessage())).doesNotContain(line.substring(0, 16));
                }
                assertThat(String.valueOf(c.getMessage())).doesNotContainPattern("[A-Za-z0-9+/]{40,}");
            }
        }
    }

    @Test
    void issuanceLogsNothingAboutKeys() {
        PrintStream err = System.err;
        var captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true));
        try {
            CertificateAuthority ca = CertificateAuthority.open(new InMemoryCaKeyStore(), CaConfig.forTrustDomain("cluster.local"),
                    java.time.Clock.systemUTC(), new IssuanceListener() {
                        @Override
                        public void issued(Kind kind, IssuedCertificate certificate, java.time.Duration latency) {
                            throw new IllegalStateException("listener failure: " + certificate);
                        }
                    });
            WorkloadCredential credential = ca.issueWorkloadCredential(WorkloadIssuanceTest.PAYMENTS);
            assertNoKeyMaterial(captured.toString(), credential.privateKey().getEncoded());
            assertThat(captured.toString()).contains("issuance listener failed").doesNotContain("PRIVATE KEY");
        } finally {
            System.setErr(err);
        }
    }

    private static void assertNoKeyMaterial(String text, byte[] keyDer) {
        String base64 = Base64.getEncoder().encodeToString(keyDer);
        for (int i = 0; i + 16 <= base64.length(); i += 16) {
            assertThat(text).doesNotContain(base64.substring(i, i + 16));
        }
        assertThat(text).doesNotContain("PRIVATE KEY-----");
    }
}
