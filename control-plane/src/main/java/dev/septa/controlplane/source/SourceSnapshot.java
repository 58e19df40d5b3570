package dev.septa.controlplane.source;

import java.util.List;

/** Everything a source holds at one moment: intents, mesh config and inventory files, and a hash of all of it. */
public record SourceSnapshot(List<InputFile> files, String contentHash) {
    public SourceSnapshot {
        files = List.copyOf(files);
    }
}
