package dev.septa.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A golden file: compared as text, rewritten with {@code -Dsepta.golden.update=true}. */
final class Golden {
    private Golden() { }

    static void assertMatches(Path golden, String actual) throws IOException {
        if (Boolean.getBoolean("septa.golden.update")) {
            Files.createDirectories(golden.getParent());
            Files.writeString(golden, actual);
        }
        assertThat(Files.exists(golden)).as(golden + " missing: run with -Dsepta.golden.update=true").isTrue();
        assertThat(actual).isEqualTo(Files.readString(golden));
    }
}
