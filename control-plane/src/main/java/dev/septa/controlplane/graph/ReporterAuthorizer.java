package dev.septa.controlplane.graph;

/**
 * Decides whether the caller of an access-log stream may report for the node id it names, so that one workload
 * cannot invent traffic for another. Called once per stream, on the gRPC thread and within the call's
 * {@link io.grpc.Context}, so an implementation can read what the control plane's authentication interceptor
 * stored there (the node token's subject or the client certificate's SPIFFE ID, decision 0002) and apply the
 * same rule as for ADS: the node id must be one the caller is allowed to be.
 */
@FunctionalInterface
public interface ReporterAuthorizer {

    boolean mayReportFor(String nodeId);

    /** For tests and for a receiver reachable only by trusted peers. */
    ReporterAuthorizer ANYONE = nodeId -> true;
}
