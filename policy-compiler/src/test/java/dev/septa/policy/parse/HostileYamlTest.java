package dev.septa.policy.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.compile.PolicyCompiler;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Inputs built to exhaust the control plane (issue 11), too large to keep in the bad-input corpus: each ends in one
 * {@code file:line:col} diagnostic, within a bound far below what it cost before (a StackOverflowError; 40 s and
 * 580 MB; minutes). The bound is a second under load; unloaded each takes tens of milliseconds.
 */
class HostileYamlTest {
    private static final Duration BOUND = Duration.ofSeconds(1);
    private static final String SEGMENT = "apiVersion: septa.dev/v1alpha1\nkind: Segment\nmetadata: {name: a, namespace: shop}\n";

    private static List<String> compile(String text) {
        CompileResult result = assertTimeoutPreemptively(BOUND, () -> PolicyCompiler.compile(List.of(new InputFile("hostile.yaml", text))));
        assertThat(result.mesh()).isEmpty();
        return result.diagnostics().stream().map(Diagnostic::toString).toList();
    }

    @Test
    void threeThousandNestedBracketsAreRefusedAtTheLevelPastTheLimit() {
        String text = SEGMENT + "spec:\n  selector: " + "[".repeat(3000) + "]".repeat(3000) + "\n";
        // The document and spec mappings are levels 1 and 2; the first '[' (line 5, column 13) is level 3, so the 63rd
        // opens level 65.
        assertThat(compile(text)).containsExactly("hostile.yaml:5:" + (13 + 62)
                + ": error: YAML too large: nested more than 64 levels deep; the deepest nesting read is 64");
    }

    @Test
    void aLongScalarAliasedTwentyThousandTimesIsRefusedAtTheAliasThatExceedsTheExpansionLimit() {
        String big = "x".repeat(60_000); // under the scalar limit: the expansion is what is refused
        StringBuilder text = new StringBuilder(SEGMENT).append("spec:\n  selector:\n    matchLabels:\n      k: &big ")
                .append(big).append('\n');
        for (int i = 0; i < 20_000; i++) {
            text.append("      k").append(i).append(": *big\n");
        }
        // 17 aliases of 60,001 fit in 1 MiB; the 18th (k17, line 25, its '*' at column 12) does not.
        assertThat(compile(text.toString())).containsExactly("hostile.yaml:25:12: error: YAML too large: aliases expand to more than "
                + "1048576 characters and nodes; the most aliases may add to a document is 1048576");
    }

    @Test
    void aOneMegabyteScalarIsRefusedBeforeItIsScanned() {
        String text = SEGMENT + "spec:\n  selector:\n    matchLabels:\n      k: &big " + "x".repeat(1024 * 1024) + "\n      j: *big\n";
        assertThat(compile(text)).containsExactly("hostile.yaml:7:15: error: YAML too large: a value of more than 65536 characters "
                + "without a space or line break; the longest value read is 65536 characters");
    }

    @Test
    void aFiftyMegabyteLabelValueIsRefusedInLinearTime() {
        String text = SEGMENT + "spec:\n  selector:\n    matchLabels:\n      app: " + "a".repeat(50 * 1024 * 1024) + "\n";
        assertThat(compile(text)).singleElement().asString().startsWith("hostile.yaml:7:12: error: YAML too large: a value of more than");
    }

    @Test
    void aLongScalarWithSpacesIsRefusedByItsLength() {
        String text = SEGMENT + "spec:\n  selector:\n    matchLabels:\n      app: \"" + "ab ".repeat(30_000) + "\"\n";
        assertThat(compile(text)).containsExactly("hostile.yaml:7:12: error: YAML too large: a value of 90000 characters; "
                + "the longest value read is 65536");
    }

    @Test
    void anAliasInsideItsOwnAnchorIsRefused() {
        String text = SEGMENT + "spec:\n  selector: &a {matchLabels: {k: v}, x: *a}\n";
        assertThat(compile(text)).containsExactly("hostile.yaml:5:41: error: YAML too large: alias *a refers to a node that contains it");
    }

    @Test
    void aLargeInventoryWithinTheLimitsStillParses() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 2_000; i++) {
            text.append("---\napiVersion: septa.dev/v1alpha1\nkind: Workload\nmetadata: {name: w").append(i)
                    .append(", namespace: shop, labels: {app: a").append(i % 7).append("}}\nspec: {serviceAccount: sa, address: 10.0.")
                    .append(i / 250).append('.').append(i % 250).append("}\n");
        }
        var parsed = MeshParser.parse(List.of(new InputFile("inventory.yaml", text.toString())));
        assertThat(parsed.diagnostics()).isEmpty();
        assertThat(parsed.mesh().workloads()).hasSize(2_000);
    }
}
