package dev.septa.sidecar.bootstrap;

/**
 * Keys of the xDS {@code node.metadata} Septa's bootstraps set. The control plane trusts none of them for identity
 * (that comes from the token or the client certificate, decision 0002); they tell it the dialect and help status pages.
 */
public final class NodeMetadata {
    /** {@code "envoy"} or {@code "grpc"}; the key the control plane's StreamAuthorizer reads (it falls back to the user agent). */
    public static final String DIALECT = "SEPTA_DIALECT";
    public static final String SERVICE_ACCOUNT = "SEPTA_SERVICE_ACCOUNT";
    /** A struct of the workload's labels. */
    public static final String LABELS = "SEPTA_LABELS";
    public static final String NAMESPACE = "SEPTA_NAMESPACE";

    /** Metadata of the SDS stream {@code septa agent} opens; it carries the node token first, then the SVID. */
    public static final String AUTHORIZATION = "authorization";

    private NodeMetadata() {
    }
}
