package dev.septa.controlplane.auth;

import java.time.Instant;

/** Who is on the other end of an xDS stream, as proven at stream start (decision 0002). */
public sealed interface Principal {

    /** A node token: admits exactly one node id. */
    record NodeToken(String nodeId, Instant expiresAt) implements Principal {}

    /** A client certificate from Septa's CA: admits every workload with this SPIFFE ID. */
    record Certificate(String spiffeId) implements Principal {}

    /** A Kubernetes service-account token the API server vouched for: admits that service account's workloads. */
    record ServiceAccountToken(String namespace, String serviceAccount) implements Principal {}

    default String describe() {
        return switch (this) {
            case NodeToken t -> "token for " + t.nodeId();
            case Certificate c -> "certificate " + c.spiffeId();
            case ServiceAccountToken s -> "service account token for " + s.namespace() + "/" + s.serviceAccount();
        };
    }
}
