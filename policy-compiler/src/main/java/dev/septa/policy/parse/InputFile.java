package dev.septa.policy.parse;

import java.util.Objects;

/** One YAML input handed to the parser: a name used in diagnostics (usually the path) and its text. */
public record InputFile(String name, String text) {
    public InputFile {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(text, "text");
    }
}
