package dev.septa.policy.model;

import dev.septa.identity.SpiffeId;
import java.time.Duration;

/** Mesh-wide settings; one per mesh, every field with a default. */
public record MeshConfig(String trustDomain, DefaultAction defaultAction, MtlsMode mtls, Duration certificateTTL) {
    public static final MeshConfig DEFAULT =
            new MeshConfig("cluster.local", DefaultAction.DENY, MtlsMode.STRICT, Duration.ofHours(1));

    /** {@code spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>}. */
    public String spiffeId(String namespace, String serviceAccount) {
        return SpiffeId.uri(trustDomain, namespace, serviceAccount);
    }
}
