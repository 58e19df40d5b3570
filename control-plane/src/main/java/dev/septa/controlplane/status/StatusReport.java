package dev.septa.controlplane.status;

import dev.septa.controlplane.publish.CompileStatus;
import dev.septa.controlplane.xds.ProxyStatus;
import io.micronaut.serde.annotation.Serdeable;
import java.time.Instant;
import java.util.List;

/** {@code GET /api/status}: the compile in force and every connected proxy. */
@Serdeable
public record StatusReport(Compile compile, int distinctSnapshots, Instant nearestCertificateExpiry, List<Proxy> proxies,
                           List<Renewal> certificates, Rotation rootRotation, List<String> warnings,
                           List<QuarantineView> quarantines) {
    // Empty collections are left out of the JSON; read back, they are empty rather than null.
    @io.micronaut.core.annotation.Creator
    public StatusReport {
        warnings = warnings == null ? List.of() : warnings;
        proxies = proxies == null ? List.of() : proxies;
        certificates = certificates == null ? List.of() : certificates;
        quarantines = quarantines == null ? List.of() : quarantines;
    }

    public StatusReport(Compile compile, int distinctSnapshots, Instant nearestCertificateExpiry, List<Proxy> proxies,
                        List<Renewal> certificates, Rotation rootRotation, List<String> warnings) {
        this(compile, distinctSnapshots, nearestCertificateExpiry, proxies, certificates, rootRotation, warnings, List.of());
    }

    /**
     * A quarantine ({@code septa quarantine}, or a Quarantine CR): {@code inForce} when the configuration being enforced
     * carries it (false: just ordered, or the workload is not in the inventory); {@code certificateWithheld} once its
     * certificate fell due and was not renewed.
     */
    @Serdeable
    public record QuarantineView(String workload, String reason, String allowFrom, Instant since, String origin,
                                 boolean inForce, boolean certificateWithheld) {}

    /** The root rotation: its stage, the roots in the trust bundle, and the workloads the stage waits for. */
    @Serdeable
    public record Rotation(String stage, String signer, List<String> roots, List<String> waitingFor, Instant since,
                           String lastError, String attention) {
        public Rotation {
            roots = roots == null ? List.of() : roots;
            waitingFor = waitingFor == null ? List.of() : waitingFor;
        }

        public static Rotation of(dev.septa.controlplane.certs.FleetRotationDriver.Status s) {
            return new Rotation(s.stage(), s.signer(), s.roots(), List.copyOf(s.waitingFor()), s.since(), s.lastError(), s.attention());
        }
    }

    /** A connected workload's SVID and its renewal: when it is due, and failed attempts (retried with backoff). */
    @Serdeable
    public record Renewal(String nodeId, String spiffeId, Instant notAfter, Instant renewAt, int failures, String lastError,
                          Instant retryAt) {
        public static Renewal of(dev.septa.controlplane.certs.SecretIssuer.Renewal r) {
            return new Renewal(r.nodeId(), r.spiffeId(), r.notAfter(), r.renewAt(), r.failures(), r.lastError(), r.retryAt());
        }
    }

    @Serdeable
    public record Compile(boolean ok, Instant at, List<String> errors, List<String> warnings, String appliedInput, Instant appliedAt) {
        public Compile {
            errors = errors == null ? List.of() : errors;
            warnings = warnings == null ? List.of() : warnings;
        }

        public static Compile of(CompileStatus s) {
            return new Compile(s.ok(), s.at(), s.errors(), s.warnings(), s.appliedInput(), s.appliedAt());
        }
    }

    @Serdeable
    public record Proxy(String nodeId, String dialect, int streams, String snapshot, java.util.Map<String, String> ackedVersions,
                        boolean inSync, Nack lastNack, Instant certificateExpiry, Instant connectedSince) {
        public Proxy {
            ackedVersions = ackedVersions == null ? java.util.Map.of() : ackedVersions;
        }

        public static Proxy of(ProxyStatus p) {
            ProxyStatus.Nack n = p.lastNack();
            return new Proxy(p.nodeId(), p.dialect(), p.streams(), p.snapshot(), p.ackedVersions(), p.inSync(),
                    n == null ? null : new Nack(n.typeUrl(), n.version(), n.error(), n.at()),
                    p.certificateExpiry(), p.connectedSince());
        }
    }

    @Serdeable
    public record Nack(String typeUrl, String version, String error, Instant at) {}
}
