package dev.septa.e2e.support;

import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.parse.InputFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The repository's {@code examples/shop}, found from the e2e module's working directory. */
public final class ShopExample {
    private ShopExample() {
    }

    public static Path root() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("examples/shop/intents"))) {
                return dir.resolve("examples/shop");
            }
        }
        throw new IllegalStateException("examples/shop not found above " + Path.of("").toAbsolutePath());
    }

    /**
     * Copies the example into {@code target} (intents/ and inventory.yaml) so a test may edit it, moving the
     * workloads from 127.0.x.y to 127.N.x.y with a random N, so that parallel runs on one machine never collide.
     */
    public static Path copyTo(Path target) throws IOException {
        Path copy = copyVerbatim(target);
        Path inventory = copy.resolve("inventory.yaml");
        int octet = java.util.concurrent.ThreadLocalRandom.current().nextInt(100, 250);
        Files.writeString(inventory, Files.readString(inventory).replace("address: 127.0.", "address: 127." + octet + "."));
        return copy;
    }

    private static Path copyVerbatim(Path target) throws IOException {
        Path source = root();
        Files.createDirectories(target.resolve("intents"));
        try (Stream<Path> files = Files.list(source.resolve("intents"))) {
            for (Path file : files.toList()) {
                Files.copy(file, target.resolve("intents").resolve(file.getFileName()));
            }
        }
        Files.copy(source.resolve("inventory.yaml"), target.resolve("inventory.yaml"));
        return target;
    }

    public static CompiledMesh compile(Path example) throws IOException {
        List<InputFile> inputs = new ArrayList<>();
        try (Stream<Path> files = Files.list(example.resolve("intents"))) {
            for (Path file : files.sorted().toList()) {
                inputs.add(new InputFile(file.toString(), Files.readString(file)));
            }
        }
        Path inventory = example.resolve("inventory.yaml");
        inputs.add(new InputFile(inventory.toString(), Files.readString(inventory)));
        CompileResult result = PolicyCompiler.compile(inputs);
        return result.mesh().orElseThrow(() -> new IllegalStateException("example does not compile: " + result.diagnostics()));
    }
}
