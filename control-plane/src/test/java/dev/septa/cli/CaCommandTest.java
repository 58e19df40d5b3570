package dev.septa.cli;

import dev.septa.controlplane.support.SeptaRun;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code septa ca ...} end to end, with openssl making the CSR and verifying the printed chain. */
class CaCommandTest {


    @TempDir
    Path tmp;

    @Test
    void initIssueAndBundle() throws Exception {
        Path dir = tmp.resolve("ca");
        SeptaRun init = SeptaRun.of("ca", "init", "--dir", dir.toString(), "--trust-domain", "shop.local");
        assertThat(init.exit()).as(init.err()).isZero();
        assertThat(init.out()).startsWith("created CA store " + dir).contains("trust domain shop.local");

        SeptaRun again = SeptaRun.of("ca", "init", "--dir", dir.toString());
        assertThat(again.exit()).isZero();
        assertThat(again.out()).startsWith("checked CA store " + dir).contains("trust domain shop.local");

        Path csr = openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", tmp.resolve("key.pem").toString(), "-subj", "/O=x", "-out", tmp.resolve("req.csr").toString());
        SeptaRun issue = SeptaRun.of("ca", "issue", "--dir", dir.toString(), "--csr", csr.toString(),
                "--spiffe-id", "spiffe://shop.local/ns/shop/sa/payments", "--ttl", "30m");
        assertThat(issue.exit()).as(issue.err()).isZero();
        assertThat(issue.out()).startsWith("-----BEGIN CERTIFICATE-----");

        SeptaRun bundle = SeptaRun.of("ca", "bundle", "--dir", dir.toString());
        assertThat(bundle.exit()).isZero();
        Files.writeString(tmp.resolve("leaf.pem"), issue.out());
        Files.writeString(tmp.resolve("bundle.pem"), bundle.out());
        String verified = run(List.of("openssl", "verify", "-CAfile", tmp.resolve("bundle.pem").toString(),
                tmp.resolve("leaf.pem").toString()));
        assertThat(verified).contains("leaf.pem: OK");
        assertThat(run(List.of("openssl", "x509", "-in", tmp.resolve("leaf.pem").toString(), "-noout", "-ext", "subjectAltName")))
                .contains("URI:spiffe://shop.local/ns/shop/sa/payments");
    }

    @Test
    void refusalsExitTwoWithTheReasonAndNoStackTrace() throws Exception {
        Path dir = tmp.resolve("ca");
        assertThat(SeptaRun.of("ca", "init", "--dir", dir.toString()).exit()).isZero();
        Path csr = openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", tmp.resolve("key.pem").toString(), "-subj", "/O=x",
                "-addext", "subjectAltName=DNS:evil.example.com", "-out", tmp.resolve("req.csr").toString());

        List<SeptaRun> refusals = List.of(
                SeptaRun.of("ca", "issue", "--dir", dir.toString(), "--csr", csr.toString(), "--spiffe-id",
                        "spiffe://cluster.local/ns/shop/sa/payments"),
                SeptaRun.of("ca", "issue", "--dir", dir.toString(), "--csr", csr.toString(), "--spiffe-id", "spiffe://cluster.local/payments"),
                SeptaRun.of("ca", "issue", "--dir", dir.toString(), "--csr", csr.toString(), "--spiffe-id",
                        "spiffe://other.local/ns/shop/sa/payments"),
                SeptaRun.of("ca", "issue", "--dir", dir.toString(), "--csr", csr.toString(), "--spiffe-id",
                        "spiffe://cluster.local/ns/shop/sa/payments", "--ttl", "2d"),
                SeptaRun.of("ca", "issue", "--dir", dir.toString(), "--csr", tmp.resolve("missing.csr").toString(), "--spiffe-id",
                        "spiffe://cluster.local/ns/shop/sa/payments"),
                SeptaRun.of("ca", "bundle", "--dir", tmp.resolve("empty").toString()),
                SeptaRun.of("ca", "init", "--dir", dir.toString(), "--trust-domain", "other.local"));

        assertThat(refusals).allSatisfy(r -> {
            assertThat(r.exit()).isEqualTo(2);
            assertThat(r.out()).isEmpty();
            assertThat(r.err()).startsWith("error: ").doesNotContain("\tat ").doesNotContain("Exception");
        });
        assertThat(refusals).extracting(SeptaRun::err).satisfiesExactly(
                e -> assertThat(e).contains("[DNS:evil.example.com]"),
                e -> assertThat(e).contains("the path must be exactly /ns/<namespace>/sa/<serviceAccount>"),
                e -> assertThat(e).contains("outside trust domain 'cluster.local'"),
                e -> assertThat(e).contains("TTL 48h is outside the allowed range 5m to 24h"),
                e -> assertThat(e).contains("missing.csr: no such file"),
                e -> assertThat(e).contains("no CA in " + tmp.resolve("empty") + "; create one with: septa ca init"),
                e -> assertThat(e).contains("belongs to trust domain 'cluster.local' but the CA is configured for 'other.local'"));
    }

    @Test
    void durations() {
        assertThat(CaDurations.parse("1h30m")).hasMinutes(90);
        assertThat(CaDurations.parse("PT5M")).hasMinutes(5);
        assertThat(CaDurations.parse("365d")).hasDays(365);
        SeptaRun bad = SeptaRun.of("ca", "issue", "--dir", tmp.toString(), "--csr", "x", "--spiffe-id",
                "spiffe://cluster.local/ns/a/sa/b", "--ttl", "soon");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("'soon' is not a duration");
    }


    private Path openssl(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        run(command);
        return tmp.resolve("req.csr");
    }

    private static String run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        return output;
    }
}
