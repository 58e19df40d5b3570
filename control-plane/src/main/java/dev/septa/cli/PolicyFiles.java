package dev.septa.cli;

import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.parse.InputFile;
import java.io.PrintWriter;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/** Reads the YAML the compiler is handed: files as named, folders recursively (*.yaml, *.yml, sorted). */
final class PolicyFiles {
    private PolicyFiles() { }

    /** Thrown with a user-facing message (no stack trace is ever shown). */
    static final class UnreadableException extends Exception {
        UnreadableException(String message) {
            super(message);
        }
    }

    /**
     * Reads and compiles {@code paths}; on unreadable input or a compiler failure prints one line to {@code err}
     * and returns empty (the caller exits 2). Diagnostics are left in the result for the caller to print.
     */
    static Optional<CompileResult> compile(List<Path> paths, PrintWriter err) {
        try {
            return Optional.of(PolicyCompiler.compile(read(paths)));
        } catch (UnreadableException e) {
            err.println(e.getMessage());
        } catch (RuntimeException e) {
            // A compiler bug, never the user's input: say so in one line rather than with a stack trace.
            err.println("septa: internal error in the policy compiler: " + e + " (please report it with the input)");
        }
        return Optional.empty();
    }

    static List<InputFile> read(List<Path> paths) throws UnreadableException {
        List<InputFile> inputs = new ArrayList<>();
        for (Path path : paths) {
            if (!Files.exists(path)) {
                throw new UnreadableException(path + ": no such file or directory");
            }
            if (Files.isDirectory(path)) {
                try (Stream<Path> walk = Files.walk(path)) {
                    for (Path p : walk.filter(Files::isRegularFile)
                            .filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList()) {
                        inputs.add(readOne(p));
                    }
                } catch (IOException e) {
                    throw new UnreadableException(path + ": cannot read: " + e.getMessage());
                }
            } else {
                inputs.add(readOne(path));
            }
        }
        return inputs;
    }

    private static InputFile readOne(Path p) throws UnreadableException {
        try {
            return new InputFile(p.toString(), Files.readString(p));
        } catch (MalformedInputException e) {
            throw new UnreadableException(p + ": not UTF-8 text");
        } catch (IOException e) {
            throw new UnreadableException(p + ": cannot read: " + e.getMessage());
        }
    }
}
