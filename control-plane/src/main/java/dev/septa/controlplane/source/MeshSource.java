package dev.septa.controlplane.source;

/**
 * Where intents and inventory come from: local files ({@code files.LocalFileSource}) or the Kubernetes API
 * ({@code kubernetes.KubernetesMeshSource}); the port the publisher reads, the adapters implement. Implementations read the
 * whole input on each call; the caller decides from {@link SourceSnapshot#contentHash()} whether anything changed.
 */
public interface MeshSource {
    SourceSnapshot read() throws SourceException;

    /**
     * A cheap stand-in for {@link SourceSnapshot#revision()} for the publisher's periodic safety-net poll: it changes
     * whenever the input was rewritten as far as the source can tell without reading it (for files: the listing and
     * each file's size, modification time and inode). The default reads everything.
     */
    default String stamp() throws SourceException {
        return read().revision();
    }

    /** Human-readable origin for logs ("intents examples/shop/intents, inventory examples/shop/inventory.yaml"). */
    String describe();

    /**
     * Whether a read can catch the input half-written (files edited in place, deleted and re-created), so that the
     * publisher must see the same content stay put for its quiet period before it publishes. A source that reads
     * whole objects atomically (the Kubernetes API) does not need it, and would only be slowed under churn.
     */
    default boolean needsSettling() {
        return false;
    }

    /**
     * Asks the source to call {@code changed} (from any thread) as soon as its input may have changed, sooner than
     * the publisher's poll would notice; the returned handle stops it. Best effort: the publisher's poll stays the
     * guarantee, so a source that cannot watch returns a handle that does nothing and says so with {@code false}
     * from {@link Watch#active()}.
     */
    default Watch watch(Runnable changed) {
        return Watch.NONE;
    }

    /** A running watch ({@link #watch}). */
    interface Watch extends AutoCloseable {
        Watch NONE = new Watch() {
            @Override
            public boolean active() {
                return false;
            }

            @Override
            public void close() {
            }
        };

        boolean active();

        @Override
        void close();
    }

    /** The UID of the pod behind a node id, where the source knows pods (Kubernetes mode); binds a pod's token to it. */
    default java.util.Optional<String> podUid(String nodeId) {
        return java.util.Optional.empty();
    }

    /**
     * Who last changed the input named {@code inputName}, as the source knows it, for the audit log: in Kubernetes
     * mode the object's {@code resourceVersion} and the field manager of its latest {@code managedFields} entry
     * ({@code manager}); empty where the source knows nothing beyond the file (local files).
     */
    default java.util.Map<String, String> provenance(String inputName) {
        return java.util.Map.of();
    }

    /** The source cannot be read at all (missing directory, permission): reported like a compile error. */
    class SourceException extends Exception {
        private final String file;

        public SourceException(String file, String message) {
            super(message);
            this.file = file;
        }

        public String file() {
            return file;
        }
    }

    /**
     * The input changed while it was being read (a file vanished between listing and reading, or its size or
     * modification time moved during the read): not an error, nothing to publish, read again once it settles.
     */
    final class InputChangingException extends SourceException {
        public InputChangingException(String file, String message) {
            super(file, message);
        }
    }
}
