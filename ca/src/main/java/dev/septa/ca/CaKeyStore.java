package dev.septa.ca;

import java.util.Optional;

/**
 * Where the CA keeps its signing key and certificates: {@link FileCaKeyStore} in local mode, the control plane's
 * Kubernetes Secret store in Kubernetes mode; so nothing here speaks of files.
 *
 * <p>Contract: {@link #load()} returns empty only when the store holds nothing at all; a store holding some
 * but not all parts, or parts that do not parse, throws {@link CaStoreException}, so that a broken CA is never
 * silently replaced by a new root. {@link #save} is all-or-nothing as seen by a later {@link #load()}.
 */
public interface CaKeyStore {

    Optional<CaMaterial> load();

    void save(CaMaterial material);

    /**
     * Saves {@code material} only if the store holds nothing yet; false when it already held a CA (which stays).
     * A new CA is created this way, so that two control planes starting together agree on one root: the loser
     * reads the winner's back. Stores shared between processes override it with an atomic create.
     */
    default boolean create(CaMaterial material) {
        if (load().isPresent()) {
            return false;
        }
        save(material);
        return true;
    }

    /** Where the store is, for messages ("directory /var/lib/septa/ca"). */
    String location();

    /** Removes everything the store holds (a finished rotation's successor, a picked-up staged one). */
    void delete();
}
