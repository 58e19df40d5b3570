package dev.septa.controlplane.source;

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
}
