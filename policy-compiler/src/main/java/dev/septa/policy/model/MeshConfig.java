package dev.septa.policy.model;

import dev.septa.identity.SpiffeId;
import java.time.Duration;

/**
 * Mesh-wide settings; one per mesh, every field with a default.
 *
 * @param detection how the control plane turns observed traffic into findings (docs/incident-response.md)
 */
public record MeshConfig(String trustDomain, DefaultAction defaultAction, MtlsMode mtls, Duration certificateTTL,
                         Detection detection) {
    public static final MeshConfig DEFAULT =
            new MeshConfig("cluster.local", DefaultAction.DENY, MtlsMode.STRICT, Duration.ofHours(1));

    public MeshConfig {
        java.util.Objects.requireNonNull(detection, "detection");
    }

    /** The settings without {@code detection}, which takes its defaults. */
    public MeshConfig(String trustDomain, DefaultAction defaultAction, MtlsMode mtls, Duration certificateTTL) {
        this(trustDomain, defaultAction, mtls, certificateTTL, Detection.DEFAULT);
    }

    /**
     * {@code spec.detection}: a source with more than {@code probeThreshold} denied calls within {@code probeWindow}
     * is probing; an allowed edge first seen after {@code learningWindow} (counted from the control plane's start)
     * is new behaviour. The bounds keep every value one the detector can hold in fixed memory.
     */
    public record Detection(int probeThreshold, Duration probeWindow, Duration learningWindow) {
        public static final Detection DEFAULT = new Detection(20, Duration.ofMinutes(1), Duration.ofHours(1));
        public static final int MIN_PROBE_THRESHOLD = 1;
        public static final int MAX_PROBE_THRESHOLD = 1_000_000;
        public static final Duration MIN_PROBE_WINDOW = Duration.ofSeconds(1);
        public static final Duration MAX_PROBE_WINDOW = Duration.ofHours(1);
        public static final Duration MIN_LEARNING_WINDOW = Duration.ofSeconds(10);
        public static final Duration MAX_LEARNING_WINDOW = Duration.ofDays(7);
    }
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
