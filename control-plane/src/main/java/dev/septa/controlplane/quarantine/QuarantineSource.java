package dev.septa.controlplane.quarantine;

import dev.septa.controlplane.source.MeshSource;
import dev.septa.controlplane.source.SourceSnapshot;
import dev.septa.policy.parse.InputFile;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A {@link MeshSource} plus the quarantines of a {@link QuarantineStore}: the compiler gets them as one more input
 * file, as it gets the inventory, so quarantines are compiled, not patched onto proxies afterwards. The store's file
 * is taken from memory (what was persisted last), so it never needs settling.
 */
public final class QuarantineSource implements MeshSource {
    private final MeshSource delegate;
    private final QuarantineStore store;

    public QuarantineSource(MeshSource delegate, QuarantineStore store) {
        this.delegate = delegate;
        this.store = store;
    }

    @Override
    public SourceSnapshot read() throws SourceException {
        SourceSnapshot inner = delegate.read();
        InputFile quarantines = store.input();
        List<InputFile> files = new ArrayList<>(inner.files());
        files.add(quarantines);
        String hash = SourceSnapshot.contentHash(files);
        return new SourceSnapshot(files, hash, inner.revision() + "+" + SourceSnapshot.contentHash(List.of(quarantines)));
    }

    @Override
    public String stamp() throws SourceException {
        return delegate.stamp() + "+" + SourceSnapshot.contentHash(List.of(store.input()));
    }

    @Override
    public String describe() {
        return delegate.describe() + ", quarantines " + store.input().name();
    }

    @Override
    public boolean needsSettling() {
        return delegate.needsSettling();
    }

    @Override
    public Optional<String> podUid(String nodeId) {
        return delegate.podUid(nodeId);
    }

    /** The delegate's watch (the store tells the publisher of its own changes directly). */
    @Override
    public Watch watch(Runnable changed) {
        return delegate.watch(changed);
    }

    @Override
    public java.util.Map<String, String> provenance(String inputName) {
        return delegate.provenance(inputName);
    }
}
