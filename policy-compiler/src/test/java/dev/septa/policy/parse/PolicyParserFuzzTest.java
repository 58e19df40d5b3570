package dev.septa.policy.parse;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.compile.PolicyCompiler;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Fuzzes the policy parser and decoder through the whole compile: any text gives a result with diagnostics, never an
 * exception, and a result with errors has no mesh. Seeds: the shop example and the bad-input corpus
 * ({@code PolicyParserFuzzTestInputs/compile}); bounds per input: {@link FuzzBounds}.
 */
class PolicyParserFuzzTest {
    static {
        PolicyCompiler.compile(dev.septa.policy.compile.TestInputs.load(java.nio.file.Path.of("../examples/shop"))); // warm-up
    }

    @FuzzTest(maxDuration = "30s")
    void compile(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        CompileResult result = FuzzBounds.within(() -> PolicyCompiler.compile(List.of(new InputFile("fuzz.yaml", text))));
        if (result.hasErrors()) {
            assertThat(result.mesh()).isEmpty();
        }
        result.diagnostics().forEach(d -> assertThat(d.source().file()).isIn("fuzz.yaml", "<unknown>", ""));
    }
}
