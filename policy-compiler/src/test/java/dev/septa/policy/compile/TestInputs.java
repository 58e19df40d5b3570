package dev.septa.policy.compile;

import dev.septa.policy.parse.InputFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Reads every *.yaml / *.yml under a folder, named relative to it (so diagnostics do not depend on the checkout path). */
public final class TestInputs {
    private TestInputs() { }

    public static List<InputFile> load(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
                    .sorted()
                    .map(p -> new InputFile(dir.relativize(p).toString(), read(p)))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A golden case's input: its {@code input/} folder, or the folder named in {@code input.path} (relative to the module). */
    public static Path inputDir(Path caseDir) {
        Path pointer = caseDir.resolve("input.path");
        return Files.exists(pointer) ? Path.of(read(pointer).strip()) : caseDir.resolve("input");
    }
}
