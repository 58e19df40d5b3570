package dev.septa.controlplane.files;

import dev.septa.controlplane.source.MeshSource;
import dev.septa.controlplane.source.SourceSnapshot;
import dev.septa.policy.parse.InputFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Local mode: every {@code *.yaml}/{@code *.yml} file under the intents directory (sorted, recursively) plus the
 * inventory file. Read whole each time: the files are small, and hashing their content is robust where file
 * system events and modification times are not (editors that rename, coarse mtimes on CI).
 */
public final class LocalFileSource implements MeshSource {
    private final Path intentsDir;
    private final Path inventoryFile;

    public LocalFileSource(Path intentsDir, Path inventoryFile) {
        this.intentsDir = intentsDir;
        this.inventoryFile = inventoryFile;
    }

    @Override
    public SourceSnapshot read() throws SourceException {
        List<InputFile> files = new ArrayList<>();
        if (intentsDir != null) {
            if (!Files.isDirectory(intentsDir)) {
                throw new SourceException(intentsDir.toString(), "intents directory does not exist or is not a directory");
            }
            List<Path> paths;
            try (Stream<Path> walk = Files.walk(intentsDir)) {
                paths = walk.filter(Files::isRegularFile)
                        .filter(p -> p.getFileName().toString().matches(".*\\.ya?ml"))
                        .filter(p -> !p.getFileName().toString().startsWith("."))
                        .sorted().toList();
            } catch (IOException | java.io.UncheckedIOException e) {
                throw new SourceException(intentsDir.toString(), "cannot list intents directory: " + e.getMessage());
            }
            for (Path p : paths) {
                files.add(readFile(p));
            }
        }
        if (inventoryFile != null) {
            if (!Files.isRegularFile(inventoryFile)) {
                throw new SourceException(inventoryFile.toString(), "inventory file does not exist");
            }
            files.add(readFile(inventoryFile));
        }
        return SourceSnapshot.of(files);
    }

    private static InputFile readFile(Path p) throws SourceException {
        try {
            return new InputFile(p.toString(), Files.readString(p, StandardCharsets.UTF_8));
        } catch (java.nio.file.NoSuchFileException e) {
            return new InputFile(p.toString(), ""); // deleted between listing and reading: the next poll sees it gone
        } catch (IOException e) {
            throw new SourceException(p.toString(), "cannot read: " + e.getMessage());
        }
    }

    @Override
    public String describe() {
        return "intents " + intentsDir + ", inventory " + inventoryFile;
    }
}
