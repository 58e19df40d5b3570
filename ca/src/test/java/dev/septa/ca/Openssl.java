package dev.septa.ca;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the openssl binary, the independent peer that checks what the CA produces. */
final class Openssl {

    record Result(int exitCode, String output) {
    }

    private Openssl() {
    }

    static Result run(Path workDir, String... args) {
        List<String> command = new ArrayList<>();
        command.add("openssl");
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true).start();
            process.getOutputStream().close();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("openssl timed out: " + command);
            }
            return new Result(process.exitValue(), output);
        } catch (IOException e) {
            throw new IllegalStateException("cannot run openssl (install it: apt-get install openssl)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Runs and asserts success; returns the output. */
    static String ok(Path workDir, String... args) {
        Result result = run(workDir, args);
        assertThat(result.exitCode()).as("openssl %s\n%s", String.join(" ", args), result.output()).isZero();
        return result.output();
    }

    /** A PEM CSR made by openssl req for the given key file, with optional extra arguments (e.g. -addext). */
    static byte[] csr(Path workDir, Path keyFile, String... extra) {
        Path out = workDir.resolve("req-" + System.nanoTime() + ".csr");
        List<String> args = new ArrayList<>(List.of("req", "-new", "-key", keyFile.toString(), "-subj", "/O=client",
                "-out", out.toString()));
        args.addAll(List.of(extra));
        ok(workDir, args.toArray(String[]::new));
        try {
            return Files.readAllBytes(out);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Path write(Path dir, String name, String content) {
        try {
            return Files.writeString(dir.resolve(name), content);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
