package dev.septa.policy.parse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.compile.PolicyCompiler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The bad-input corpus: each {@code bad-input/NAME.yaml} is compiled alone and must produce exactly the
 * diagnostics in {@code NAME.expected} (one per line, {@code file:line:col: severity: message}), and no mesh.
 */
class BadInputTest {
    private static final Path DIR = Path.of("src/test/resources/bad-input");

    static List<Path> inputs() throws IOException {
        try (Stream<Path> s = Files.list(DIR)) {
            return s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
    }

    @Test
    void corpusHasAtLeast25BrokenFiles() throws IOException {
        assertThat(inputs()).hasSizeGreaterThanOrEqualTo(25);
    }

    @TestFactory
    Stream<DynamicTest> eachBrokenFileGivesItsExactDiagnostics() throws IOException {
        return inputs().stream().map(p -> DynamicTest.dynamicTest(p.getFileName().toString(), () -> {
            CompileResult result = PolicyCompiler.compile(List.of(new InputFile(p.getFileName().toString(), Files.readString(p))));
            Path expectedFile = Path.of(p.toString().replace(".yaml", ".expected"));
            List<String> actual = result.diagnostics().stream().map(Diagnostic::toString).toList();
            if (Boolean.getBoolean("septa.golden.update")) {
                Files.writeString(expectedFile, String.join("\n", actual) + "\n");
            }
            assertThat(actual).isEqualTo(Files.readAllLines(expectedFile));
            assertThat(result.hasErrors()).isTrue();
            assertThat(result.mesh()).isEmpty();
        }));
    }
}
