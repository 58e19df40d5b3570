package dev.septa.policy.model;

import dev.septa.identity.SpiffeId;
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

    /**
     * The control plane's own identity, {@code /ns/septa-system/sa/control-plane}: the name every sidecar's xDS and
     * access-log connection checks on the control plane's certificate. No workload may have it.
     */
    public static final String CONTROL_PLANE_NAMESPACE = dev.septa.identity.SpiffeId.CONTROL_PLANE_NAMESPACE;
    public static final String CONTROL_PLANE_SERVICE_ACCOUNT = dev.septa.identity.SpiffeId.CONTROL_PLANE_SERVICE_ACCOUNT;

    /** Whether {@code namespace}/{@code serviceAccount} is the control plane's own identity. */
    public static boolean isControlPlaneIdentity(String namespace, String serviceAccount) {
        return CONTROL_PLANE_NAMESPACE.equals(namespace) && CONTROL_PLANE_SERVICE_ACCOUNT.equals(serviceAccount);
    }

    /** {@code spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>}. */
    public String spiffeId(String namespace, String serviceAccount) {
        return SpiffeId.uri(trustDomain, namespace, serviceAccount);
    }
}
