package dev.septa.controlplane.source;

/**
 * Where intents and inventory come from: local files ({@code files.LocalFileSource}) or the Kubernetes API
 * ({@code kubernetes.KubernetesMeshSource}); the port the publisher reads, the adapters implement. Implementations read the
 * whole input on each call; the caller decides from {@link SourceSnapshot#contentHash()} whether anything changed.
 */
public interface MeshSource {
    SourceSnapshot read() throws SourceException;

    /** Human-readable origin for logs ("intents examples/shop/intents, inventory examples/shop/inventory.yaml"). */
    String describe();

    /** The source cannot be read at all (missing directory, permission): reported like a compile error. */
    final class SourceException extends Exception {
        private final String file;

        public SourceException(String file, String message) {
            super(message);
            this.file = file;
        }

        public String file() {
            return file;
        }
    }
}
