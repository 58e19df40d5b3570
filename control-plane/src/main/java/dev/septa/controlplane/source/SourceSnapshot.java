package dev.septa.controlplane.source;

import dev.septa.policy.parse.InputFile;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Everything a source holds at one moment: intents, mesh config and inventory files, and a hash of all of it.
 * {@code revision} changes whenever the input was rewritten, even to the same content (for files: their sizes,
 * modification times and inodes with the content hash), so that a publisher can tell input that stayed put from
 * input rewritten in between two reads; sources without such stamps use the content hash.
 */
public record SourceSnapshot(List<InputFile> files, String contentHash, String revision) {
    public SourceSnapshot {
        files = List.copyOf(files);
    }

    public SourceSnapshot(List<InputFile> files, String contentHash) {
        this(files, contentHash, contentHash);
    }

    /** The files with the hash of their names and texts, so that equal inputs give equal hashes whatever the source. */
    public static SourceSnapshot of(List<InputFile> files) {
        return new SourceSnapshot(files, contentHash(files));
    }

    public static String contentHash(List<InputFile> files) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (InputFile f : files) {
                digest.update(f.name().getBytes(StandardCharsets.UTF_8));
                digest.update((byte) 0);
                digest.update(f.text().getBytes(StandardCharsets.UTF_8));
                digest.update((byte) 0);
            }
            return HexFormat.of().formatHex(digest.digest(), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
