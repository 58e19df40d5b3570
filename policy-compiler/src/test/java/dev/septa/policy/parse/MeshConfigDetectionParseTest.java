package dev.septa.policy.parse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.model.MeshConfig;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code MeshConfig.spec.detection}: defaults, every field read, and one clear error per bad value. */
class MeshConfigDetectionParseTest {

    private static ParseResult parse(String spec) {
        return MeshParser.parse(List.of(new InputFile("mesh.yaml", """
                apiVersion: septa.dev/v1alpha1
                kind: MeshConfig
                metadata: {name: mesh}
                spec:
                """ + spec)));
    }

    private static List<String> errors(ParseResult r) {
        return r.diagnostics().stream().filter(Diagnostic::isError).map(Diagnostic::toString).toList();
    }

    @Test
    void absentDetectionTakesTheDocumentedDefaults() {
        ParseResult r = parse("  trustDomain: cluster.local\n");
        assertThat(errors(r)).isEmpty();
        assertThat(r.mesh().config().detection()).isEqualTo(MeshConfig.Detection.DEFAULT);
        assertThat(MeshConfig.Detection.DEFAULT)
                .isEqualTo(new MeshConfig.Detection(20, Duration.ofMinutes(1), Duration.ofHours(1)));
    }

    @Test
    void readsEveryField() {
        ParseResult r = parse("""
                  detection:
                    probeThreshold: 5
                    probeWindow: 30s
                    learningWindow: 2h30m
                """);
        assertThat(errors(r)).isEmpty();
        assertThat(r.mesh().config().detection())
                .isEqualTo(new MeshConfig.Detection(5, Duration.ofSeconds(30), Duration.ofMinutes(150)));
    }

    @Test
    void aPartialBlockKeepsTheOtherDefaults() {
        ParseResult r = parse("  detection: {probeThreshold: 3}\n");
        assertThat(errors(r)).isEmpty();
        assertThat(r.mesh().config().detection())
                .isEqualTo(new MeshConfig.Detection(3, Duration.ofMinutes(1), Duration.ofHours(1)));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "threshold zero     | {probeThreshold: 0}          | mesh.yaml:5:31: error: invalid probeThreshold 0: must be between 1 and 1000000 denied calls",
            "threshold a string | {probeThreshold: many}       | mesh.yaml:5:31: error: 'spec.detection.probeThreshold' must be",
            "window in days     | {probeWindow: 1d}            | mesh.yaml:5:28: error: invalid probeWindow '1d': expected a duration such as 30s, 5m or 1h",
            "window too long    | {probeWindow: 2h}            | mesh.yaml:5:28: error: invalid probeWindow '2h': must be between 1s and 1h",
            "learning too short | {learningWindow: 5s}         | mesh.yaml:5:31: error: invalid learningWindow '5s': must be between 10s and 168h",
            "misspelled field   | {probeTreshold: 3}           | mesh.yaml:5:15: error: unknown field 'probeTreshold' in 'spec.detection'; did you mean 'probeThreshold'?",
            "not a mapping      | 20                           | mesh.yaml:5:14: error: 'spec.detection' must be a mapping",
    })
    void aBadValueIsOneClearError(String name, String value, String expected) {
        ParseResult r = parse("  detection: " + value + "\n");
        assertThat(errors(r)).singleElement().asString().startsWith(expected);
    }
}
