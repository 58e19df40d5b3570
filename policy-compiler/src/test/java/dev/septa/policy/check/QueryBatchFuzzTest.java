package dev.septa.policy.check;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.compile.TestInputs;
import dev.septa.policy.parse.FuzzBounds;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Fuzzes {@code septa check --queries}: any batch text is parsed into queries and line errors, never an exception;
 * a batch without errors is answered against the shop example's compiled mesh, one JSON line per query (unknown
 * workloads are line errors too, as the CLI reports them).
 */
class QueryBatchFuzzTest {
    private static final Checker SHOP = new Checker(compileShop());

    static {
        try { // warm-up, outside the per-input bound
            var parsed = QueryBatch.parse("warm-up", new BufferedReader(new StringReader(
                    "{\"from\":\"shop/checkout-1\",\"to\":\"shop/payments-1\",\"port\":8443}\n")));
            QueryBatch.answer(SHOP, parsed.queries(), new StringWriter());
        } catch (IOException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static CompiledMesh compileShop() {
        return PolicyCompiler.compile(TestInputs.load(Path.of("../examples/shop"))).mesh().orElseThrow();
    }

    @FuzzTest(maxDuration = "30s")
    void parseAndAnswer(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        FuzzBounds.within(() -> {
            try {
                QueryBatch.Parsed parsed = QueryBatch.parse("fuzz.jsonl", new BufferedReader(new StringReader(text)));
                if (!parsed.errors().isEmpty() || !QueryBatch.unknownWorkloads("fuzz.jsonl", parsed.queries(), SHOP).isEmpty()) {
                    parsed.errors().forEach(e -> assertThat(e.toString()).startsWith("fuzz.jsonl:" + e.line() + ":").doesNotContain("\n"));
                    return null;
                }
                StringWriter out = new StringWriter();
                QueryBatch.answer(SHOP, parsed.queries(), out);
                assertThat(out.toString().lines()).hasSize(parsed.queries().size());
                return null;
            } catch (IOException e) {
                throw new UncheckedIOException(e); // a StringReader does not fail
            }
        });
    }
}
