package dev.septa.controlplane.files;

import dev.septa.controlplane.source.MeshSource;
import dev.septa.controlplane.source.SourceSnapshot;
import dev.septa.policy.parse.InputFile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Local mode: every {@code *.yaml}/{@code *.yml} file under the intents directory (sorted, recursively) plus the
 * inventory file. Read whole each time: the files are small, and hashing their content is robust where file
 * system events and modification times are not (editors that rename, coarse mtimes on CI). File system events
 * ({@link #watch}) only say when to read.
 *
 * <p>A read is consistent or refused: the folder is listed and every file stamped (size, modification time, inode)
 * before and again after the contents are read, and a file that vanished in between or whose stamp moved makes the
 * read throw {@link InputChangingException}. Otherwise a file deleted and re-created, or truncated and rewritten in
 * place, could be read as empty or half-written, and a policy lacking its Deny intents would be published.
 * Content that merely looks complete mid-write is caught by the publisher, which waits until the content has stayed
 * the same for its quiet period ({@link #needsSettling()}).
 */
public final class LocalFileSource implements MeshSource {
    private final Path intentsDir;
    private final Path inventoryFile;

    public LocalFileSource(Path intentsDir, Path inventoryFile) {
        this.intentsDir = intentsDir;
        this.inventoryFile = inventoryFile;
    }

    /** Change events for the intents folder tree and the inventory's folder ({@link FileWatch}). */
    @Override
    public Watch watch(Runnable changed) {
        List<Path> folders = new ArrayList<>();
        if (inventoryFile != null && inventoryFile.toAbsolutePath().getParent() != null) {
            folders.add(inventoryFile.toAbsolutePath().getParent());
        }
        if (intentsDir == null && folders.isEmpty()) {
            return Watch.NONE;
        }
        return FileWatch.start(intentsDir == null ? null : intentsDir.toAbsolutePath(), folders, changed);
    }

    @Override
    public boolean needsSettling() {
        return true;
    }

    @Override
    public SourceSnapshot read() throws SourceException {
        Map<Path, FileStamp> before = stamps();
        List<InputFile> files = new ArrayList<>();
        for (Path p : before.keySet()) {
            files.add(readFile(p));
        }
        Map<Path, FileStamp> after = stamps();
        if (!before.equals(after)) {
            Path moved = before.keySet().stream().filter(p -> !before.get(p).equals(after.get(p))).findFirst()
                    .orElseGet(() -> after.keySet().stream().filter(p -> !before.containsKey(p)).findFirst().orElse(intentsDir));
            throw new InputChangingException(String.valueOf(moved), "changed while it was being read");
        }
        String contentHash = SourceSnapshot.contentHash(files);
        return new SourceSnapshot(files, contentHash, contentHash + "@" + SourceSnapshot.contentHash(List.of(new InputFile("stamps", after.toString()))));
    }

    /** The listing and every file's stamp, hashed: no file is read. */
    @Override
    public String stamp() throws SourceException {
        return SourceSnapshot.contentHash(List.of(new InputFile("stamps", stamps().toString())));
    }

    /** Every input file in read order (sorted intents, then the inventory) with its stamp. */
    private Map<Path, FileStamp> stamps() throws SourceException {
        List<Path> paths = new ArrayList<>();
        if (intentsDir != null) {
            if (!Files.isDirectory(intentsDir)) {
                throw new SourceException(intentsDir.toString(), "intents directory does not exist or is not a directory");
            }
            try (Stream<Path> walk = Files.walk(intentsDir)) {
                paths.addAll(walk.filter(Files::isRegularFile)
                        .filter(p -> p.getFileName().toString().matches(".*\\.ya?ml"))
                        .filter(p -> !p.getFileName().toString().startsWith("."))
                        .sorted().toList());
            } catch (IOException | java.io.UncheckedIOException e) {
                if (e.getCause() instanceof NoSuchFileException || e instanceof NoSuchFileException) {
                    throw new InputChangingException(intentsDir.toString(), "changed while it was being listed");
                }
                throw new SourceException(intentsDir.toString(), "cannot list intents directory: " + e.getMessage());
            }
        }
        if (inventoryFile != null) {
            if (!Files.isRegularFile(inventoryFile)) {
                throw new SourceException(inventoryFile.toString(), "inventory file does not exist");
            }
            paths.add(inventoryFile);
        }
        Map<Path, FileStamp> stamps = new LinkedHashMap<>();
        for (Path p : paths) {
            stamps.put(p, FileStamp.of(p));
        }
        return stamps;
    }

    /** What tells a rewritten file from an untouched one without reading it. */
    private record FileStamp(long size, long modifiedNanos, Object fileKey) {
        static FileStamp of(Path p) throws SourceException {
            try {
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                return new FileStamp(a.size(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS), a.fileKey());
            } catch (NoSuchFileException e) {
                throw new InputChangingException(p.toString(), "was deleted while it was being read");
            } catch (IOException e) {
                throw new SourceException(p.toString(), "cannot read: " + e.getMessage());
            }
        }
    }

    private static InputFile readFile(Path p) throws SourceException {
        try {
            return new InputFile(p.toString(), Files.readString(p, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            // Deleted between listing and reading: never read it as empty, which would drop its intents.
            throw new InputChangingException(p.toString(), "was deleted while it was being read");
        } catch (IOException e) {
            throw new SourceException(p.toString(), "cannot read: " + e.getMessage());
        }
    }


    @Override
    public String describe() {
        return "intents " + intentsDir + ", inventory " + inventoryFile;
    }
}
