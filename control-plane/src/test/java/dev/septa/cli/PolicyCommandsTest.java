package dev.septa.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code septa validate} and {@code septa compile} on the bundled example and on broken input. */
class PolicyCommandsTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = SeptaCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return cli.execute(args);
    }

    @Test
    void validateAcceptsTheShop() {
        assertThat(run("validate", "-f", "../examples/shop")).isZero();
        assertThat(out.toString()).contains("valid (0 warning(s))");
    }

    @Test
    void validateReportsErrorsWithPositionsAndExits2(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, """
                apiVersion: septa.dev/v1alpha1
                kind: Segment
                metadata: {name: a, namespace: shop}
                spec: {selektor: {}}
                """);
        assertThat(run("validate", "-f", bad.toString())).isEqualTo(2);
        assertThat(out.toString()).contains(bad + ":4:8: error: unknown field 'selektor' in 'spec'; did you mean 'selector'?");
        assertThat(err.toString()).contains("1 error(s)");
    }

    @Test
    void missingPathIsBadInput() {
        assertThat(run("validate", "-f", "does/not/exist")).isEqualTo(2);
        assertThat(err.toString()).contains("does/not/exist: no such file or directory");
    }

    @Test
    void compileWritesOneFolderPerProxyAndDialect(@TempDir Path dir) {
        assertThat(run("compile", "-f", "../examples/shop", "--out", dir.toString())).isZero();
        for (String dialect : new String[] {"envoy", "grpc"}) {
            for (String kind : new String[] {"listeners", "routes", "clusters", "endpoints"}) {
                assertThat(dir.resolve("shop/payments-1/" + dialect + "/" + kind + ".json")).isRegularFile();
            }
        }
        assertThat(out.toString()).contains("compiled 6 proxies");
    }

    @Test
    void compileWritesNothingOnBadInput(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("in/bad.yaml");
        Files.createDirectories(bad.getParent());
        Files.writeString(bad, "kind: [\n");
        Path outDir = dir.resolve("out");
        assertThat(run("compile", "-f", bad.getParent().toString(), "--out", outDir.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("YAML syntax error");
        assertThat(outDir).doesNotExist();
    }
}
