package dev.septa.controlplane.graph;

import dev.septa.identity.SpiffeId;

/** Reads the parts of a reported SPIFFE ID that the graph needs, by the one parser ({@link SpiffeId#tryParse}). */
final class SpiffeIds {
    private SpiffeIds() {
    }

    /** The namespace of a Septa SPIFFE ID, or null when the ID does not have Septa's shape. */
    static String namespace(String spiffeId) {
        return SpiffeId.tryParse(spiffeId).map(SpiffeId::namespace).orElse(null);
    }

    /** The service account, or null. */
    static String serviceAccount(String spiffeId) {
        return SpiffeId.tryParse(spiffeId).map(SpiffeId::serviceAccount).orElse(null);
    }
}
