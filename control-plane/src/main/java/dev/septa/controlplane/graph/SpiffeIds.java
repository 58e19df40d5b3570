package dev.septa.controlplane.graph;

/** Reads the parts of {@code spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>} that the graph needs. */
final class SpiffeIds {
    private SpiffeIds() {
    }

    /** The namespace of a Septa SPIFFE ID, or null when the ID does not have Septa's shape. */
    static String namespace(String spiffeId) {
        String[] p = parts(spiffeId);
        return p == null ? null : p[0];
    }

    /** The service account, or null. */
    static String serviceAccount(String spiffeId) {
        String[] p = parts(spiffeId);
        return p == null ? null : p[1];
    }

    private static String[] parts(String id) {
        if (id == null || !id.startsWith("spiffe://")) {
            return null;
        }
        int slash = id.indexOf('/', "spiffe://".length());
        if (slash < 0) {
            return null;
        }
        String[] seg = id.substring(slash + 1).split("/", -1);
        if (seg.length != 4 || !seg[0].equals("ns") || !seg[2].equals("sa") || seg[1].isEmpty() || seg[3].isEmpty()) {
            return null;
        }
        return new String[]{seg[1], seg[3]};
    }
}
