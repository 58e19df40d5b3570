package dev.septa.policy.compile;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Golden files: each folder under src/test/resources/golden is a case (input YAML, expected proto3 JSON per proxy
 * and dialect, expected diagnostics). Refresh with {@code -Dsepta.golden.update=true} (see README.md).
 */
class GoldenTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden");
    private static final boolean UPDATE = Boolean.getBoolean("septa.golden.update");

    static List<Path> cases() throws IOException {
        try (Stream<Path> s = Files.list(GOLDEN)) {
            return s.filter(Files::isDirectory).sorted().toList();
        }
    }

    static CompileResult compileCase(Path caseDir) {
        return PolicyCompiler.compile(TestInputs.load(TestInputs.inputDir(caseDir)));
    }

    static SortedMap<String, String> actual(Path caseDir) {
        CompileResult result = compileCase(caseDir);
        SortedMap<String, String> files = new TreeMap<>();
        files.put("diagnostics.txt", result.diagnostics().stream().map(d -> d + "\n").collect(Collectors.joining()));
        result.mesh().ifPresent(m -> files.putAll(CompiledMeshFiles.files(m)));
        return files;
    }

    @TestFactory
    Stream<DynamicTest> goldenCases() throws IOException {
        return cases().stream().map(c -> DynamicTest.dynamicTest(c.getFileName().toString(), () -> check(c)));
    }

    private static void check(Path caseDir) throws IOException {
        SortedMap<String, String> actual = actual(caseDir);
        Path expectedDir = caseDir.resolve("expected");
        if (UPDATE) {
            if (Files.exists(expectedDir)) {
                try (Stream<Path> s = Files.walk(expectedDir)) {
                    for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(p);
                    }
                }
            }
            for (Map.Entry<String, String> e : actual.entrySet()) {
                Path p = expectedDir.resolve(e.getKey());
                Files.createDirectories(p.getParent());
                Files.writeString(p, e.getValue());
            }
        }
        SortedMap<String, String> expected = new TreeMap<>();
        try (Stream<Path> s = Files.walk(expectedDir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                expected.put(expectedDir.relativize(p).toString(), Files.readString(p));
            }
        }
        assertThat(actual.keySet()).as("files of %s", caseDir).containsExactlyElementsOf(expected.keySet());
        for (String file : expected.keySet()) {
            assertThat(actual.get(file)).as("%s/expected/%s (refresh with -Dsepta.golden.update=true)", caseDir, file)
                    .isEqualTo(expected.get(file));
        }
    }
}
