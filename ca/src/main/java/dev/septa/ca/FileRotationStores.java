package dev.septa.ca;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * {@link RotationStores} in one directory: the CA in it ({@link FileCaKeyStore}), the successor in {@code next/},
 * a staged successor in {@code incoming/}, the stage in {@code rotation-stage} (replaced by rename).
 */
public final class FileRotationStores implements RotationStores {
    static final String STAGE_FILE = "rotation-stage";
    static final String NEXT_DIR = "next";
    /** Where {@code septa ca rotate --intermediate-cert ...} leaves an operator's successor for the control plane. */
    public static final String INCOMING_DIR = "incoming";

    private final FileCaKeyStore current;
    private final FileCaKeyStore next;
    private final FileCaKeyStore incoming;
    private final Path stageFile;

    public FileRotationStores(Path directory) {
        this.current = new FileCaKeyStore(directory);
        this.next = new FileCaKeyStore(current.directory().resolve(NEXT_DIR));
        this.incoming = new FileCaKeyStore(current.directory().resolve(INCOMING_DIR));
        this.stageFile = current.directory().resolve(STAGE_FILE);
    }

    public Path directory() {
        return current.directory();
    }

    @Override
    public CaKeyStore current() {
        return current;
    }

    @Override
    public CaKeyStore next() {
        return next;
    }

    @Override
    public CaKeyStore incoming() {
        return incoming;
    }

    @Override
    public boolean incomingPresent() {
        return Files.isDirectory(incoming.directory());
    }

    @Override
    public String readStage() {
        try {
            return Files.exists(stageFile) ? Files.readString(stageFile, StandardCharsets.US_ASCII).strip() : null;
        } catch (IOException e) {
            return null; // re-derived from the stores anyway
        }
    }

    @Override
    public void writeStage(String stage) {
        try {
            Path tmp = stageFile.resolveSibling(STAGE_FILE + ".tmp");
            Files.writeString(tmp, stage + "\n", StandardCharsets.US_ASCII);
            Files.move(tmp, stageFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new CaStoreException("cannot record the rotation stage in " + stageFile + ": " + e.getMessage());
        }
    }

    @Override
    public String stagingHint() {
        return "septa ca rotate --dir " + current.directory() + " --intermediate-cert FILE --intermediate-key FILE [--root-cert FILE]";
    }

    @Override
    public String toString() {
        return "FileRotationStores[" + current.directory() + "]";
    }
}
