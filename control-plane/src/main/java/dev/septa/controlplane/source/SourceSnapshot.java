package dev.septa.controlplane.source;

import dev.septa.policy.parse.InputFile;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/** Everything a source holds at one moment: intents, mesh config and inventory files, and a hash of all of it. */
public record SourceSnapshot(List<InputFile> files, String contentHash) {
    public SourceSnapshot {
        files = List.copyOf(files);
    }

    /** The files with the hash of their names and texts, so that equal inputs give equal hashes whatever the source. */
    public static SourceSnapshot of(List<InputFile> files) {
        return new SourceSnapshot(files, contentHash(files));
    }

    static String contentHash(List<InputFile> files) {
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
