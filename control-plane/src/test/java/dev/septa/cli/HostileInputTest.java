package dev.septa.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.septa.controlplane.kubernetes.admission.AdmissionReviewHandler;
import dev.septa.sidecar.inject.InjectionSettings;
import dev.septa.sidecar.inject.PodInjector;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Issue 11's hostile inputs through {@code septa inject}, the webhook's AdmissionReview parsing and
 * {@code septa bootstrap --token-lifetime}: each is one line, exit 2 (or a 400's BadReview), within a second.
 */
class HostileInputTest {
    private static final Duration BOUND = Duration.ofSeconds(1);
    private static final String POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n";
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    /** Reading a 50 MB file and looking at each character once is linear but not free on a loaded 2-core machine. */
    private static final Duration FIFTY_MB_BOUND = Duration.ofSeconds(5);

    private int run(String... args) {
        return run(BOUND, args);
    }

    private int run(Duration bound, String... args) {
        CommandLine cli = SeptaCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        return assertTimeoutPreemptively(bound, () -> cli.execute(args));
    }

    private void injectFails(Path file, String text, String expected) throws Exception {
        Files.writeString(file, text);
        assertThat(run(text.length() > 10_000_000 ? FIFTY_MB_BOUND : BOUND, "inject", "-f", file.toString())).isEqualTo(2);
        assertThat(err.toString().lines().toList()).containsExactly(file + expected);
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void injectRefusesDeepNesting(@TempDir Path dir) throws Exception {
        injectFails(dir.resolve("deep.yaml"), POD + "    app: x\nspec: {containers: " + "[".repeat(3000) + "]".repeat(3000) + "}\n",
                ":7:" + (20 + 98) + ": YAML too large: nested more than 100 levels deep; the deepest nesting read is 100");
    }

    @Test
    void injectRefusesAliasExpansion(@TempDir Path dir) throws Exception {
        StringBuilder text = new StringBuilder(POD).append("    a: &big ").append("x".repeat(60_000)).append('\n');
        for (int i = 0; i < 20_000; i++) {
            text.append("    a").append(i).append(": *big\n");
        }
        injectFails(dir.resolve("alias.yaml"), text.toString(), ":24:10: YAML too large: aliases expand to more than 1048576 "
                + "characters and nodes; the most aliases may add to a document is 1048576");
    }

    @Test
    void injectRefusesAFiftyMegabyteLabelValue(@TempDir Path dir) throws Exception {
        injectFails(dir.resolve("label.yaml"), POD + "    app: " + "a".repeat(50 * 1024 * 1024) + "\n",
                ":6:10: YAML too large: a value of more than 1048576 characters without a space or line break; "
                        + "the longest value read is 1048576 characters");
    }

    @Test
    void theWebhookAnswersDeepJsonWithABadReview() {
        AdmissionReviewHandler handler = new AdmissionReviewHandler(new PodInjector(InjectionSettings.defaults("cluster.local")));
        String deep = "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u\",\"object\":"
                + "[".repeat(3000) + "]".repeat(3000) + "}}";
        assertThatThrownBy(() -> assertTimeoutPreemptively(BOUND, () -> handler.handle(deep)))
                .isInstanceOf(AdmissionReviewHandler.BadReview.class)
                .hasMessageStartingWith("not JSON").hasMessageContaining("nesting depth (101) exceeds the maximum allowed (100")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void bootstrapRefusesTokenLifetimesOutsideZeroTo24Hours(@TempDir Path dir) {
        for (String lifetime : new String[] {"PT0S", "-PT5M", "PT25H", "PT99999999H"}) {
            err.getBuffer().setLength(0);
            assertThat(run("bootstrap", "--workload", "shop/a", "--dialect", "grpc", "--state-dir", dir.toString(),
                    "--token-lifetime", lifetime)).as(lifetime).isEqualTo(2);
            assertThat(err.toString().lines().toList()).as(lifetime).containsExactly("septa bootstrap: --token-lifetime must be "
                    + "more than 0 and at most PT24H, got " + Duration.parse(lifetime));
        }
    }
}
