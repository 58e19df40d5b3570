package dev.septa.policy.model;

import java.time.Duration;

/** Mesh-wide settings; one per mesh, every field with a default. */
public record MeshConfig(String trustDomain, DefaultAction defaultAction, MtlsMode mtls, Duration certificateTTL) {
    public static final MeshConfig DEFAULT =
            new MeshConfig("cluster.local", DefaultAction.DENY, MtlsMode.STRICT, Duration.ofHours(1));
    /**
     * The shortest and longest {@code certificateTTL}: the built-in CA's bounds ({@code CaConfig.DEFAULT_MIN_TTL} and
     * {@code DEFAULT_MAX_TTL}; a test holds them equal), so that a TTL that validates is one the CA will issue.
     */
    public static final Duration MIN_CERTIFICATE_TTL = Duration.ofMinutes(5);
    public static final Duration MAX_CERTIFICATE_TTL = Duration.ofHours(24);

    /** {@code spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>}. */
    public String spiffeId(String namespace, String serviceAccount) {
        return "spiffe://" + trustDomain + "/ns/" + namespace + "/sa/" + serviceAccount;
    }
}
