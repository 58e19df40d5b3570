package dev.septa.controlplane;

import dev.septa.controlplane.certs.WorkloadCertificates;
import dev.septa.controlplane.publish.MeshCompilation;
import dev.septa.controlplane.source.MeshSource;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How to run the control plane. Ports 0 pick free ports (see {@link ControlPlane#xdsPort()}). {@code source},
 * {@code compilation} and {@code certificates} are seams: null means local files, Septa's compiler and the CA in
 * {@code stateDir/ca}. {@code minCertificateTtl}: the shortest workload certificate lifetime the CA accepts (default
 * 5 minutes; seconds for tests and demos). {@code certificateTtl}: when not null, the lifetime of every workload
 * certificate instead of the mesh's {@code certificateTTL} (whose parser keeps a 5-minute floor).
 * {@code serviceAccountTokens}: null outside Kubernetes mode. {@code caStores}: null means files in {@code stateDir/ca}.
 * {@code contributions}: the parts of {@code septa serve} beyond the core, wired by {@link ControlPlane#start}.
 * {@code auditToStdout}: audit lines to standard output (Kubernetes mode) instead of {@code stateDir/audit/audit.log}.
 */
public record ControlPlaneOptions(Path intentsDir, Path inventoryFile, Path stateDir,
                                  String xdsHost, int xdsPort, String httpHost, int httpPort,
                                  Duration debounceQuiet, Duration debounceMaxDelay, Duration pollInterval,
                                  MeshSource source, MeshCompilation compilation, WorkloadCertificates certificates,
                                  Duration minCertificateTtl, Duration certificateTtl, double rootRotationShare,
                                  Duration rootRotationReissueWindow,
                                  dev.septa.controlplane.auth.ServiceAccountTokens serviceAccountTokens,
                                  dev.septa.ca.RotationStores caStores,
                                  java.util.List<ServeContribution> contributions,
                                  boolean unboundServiceAccountTokens,
                                  boolean auditToStdout) {

    public ControlPlaneOptions {
        contributions = contributions == null ? java.util.List.of() : java.util.List.copyOf(contributions);
        if (minCertificateTtl == null || minCertificateTtl.compareTo(Duration.ofSeconds(2)) < 0) {
            throw new IllegalArgumentException("the minimum certificate TTL must be at least 2s, got " + minCertificateTtl);
        }
        if (!(rootRotationShare >= 0 && rootRotationShare < 1)) {
            throw new IllegalArgumentException("the root rotation share must be in [0, 1), got " + rootRotationShare);
        }
        if (rootRotationReissueWindow == null || rootRotationReissueWindow.isNegative()) {
            throw new IllegalArgumentException("the re-issue window of a root rotation must be zero or more, got " + rootRotationReissueWindow);
        }
        if (certificateTtl != null && certificateTtl.compareTo(minCertificateTtl) < 0) {
            throw new IllegalArgumentException("certificate TTL " + certificateTtl + " is below the minimum " + minCertificateTtl
                    + "; lower the minimum as well (--min-certificate-ttl)");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public MeshSource effectiveSource() {
        return source != null ? source : new dev.septa.controlplane.files.LocalFileSource(intentsDir, inventoryFile);
    }

    /** Builder with the defaults of {@code septa serve}. */
    public static final class Builder {
        private Path intentsDir;
        private Path inventoryFile;
        private Path stateDir = Path.of(".septa");
        private String xdsHost = "0.0.0.0";
        private int xdsPort = 15010;
        private String httpHost = "127.0.0.1";
        private int httpPort = 15000;
        private Duration debounceQuiet = Duration.ofMillis(100);
        private Duration debounceMaxDelay = Duration.ofSeconds(1);
        private Duration pollInterval = Duration.ofMillis(50);
        private MeshSource source;
        private MeshCompilation compilation;
        private WorkloadCertificates certificates;
        private Duration minCertificateTtl = dev.septa.ca.CaConfig.DEFAULT_MIN_TTL;
        private Duration certificateTtl;
        private double rootRotationShare = 0.2;
        private Duration rootRotationReissueWindow = Duration.ofMinutes(1);
        private dev.septa.controlplane.auth.ServiceAccountTokens serviceAccountTokens;
        private dev.septa.ca.RotationStores caStores;
        private final java.util.List<ServeContribution> contributions = new java.util.ArrayList<>();
        private boolean unboundServiceAccountTokens;
        private boolean auditToStdout;

        public Builder intentsDir(Path v) { intentsDir = v; return this; }
        public Builder inventoryFile(Path v) { inventoryFile = v; return this; }
        public Builder stateDir(Path v) { stateDir = v; return this; }
        public Builder xdsHost(String v) { xdsHost = v; return this; }
        public Builder xdsPort(int v) { xdsPort = v; return this; }
        public Builder httpHost(String v) { httpHost = v; return this; }
        public Builder httpPort(int v) { httpPort = v; return this; }
        public Builder debounce(Duration quiet, Duration maxDelay) { debounceQuiet = quiet; debounceMaxDelay = maxDelay; return this; }
        public Builder pollInterval(Duration v) { pollInterval = v; return this; }
        public Builder source(MeshSource v) { source = v; return this; }
        public Builder compilation(MeshCompilation v) { compilation = v; return this; }
        public Builder certificates(WorkloadCertificates v) { certificates = v; return this; }
        public Builder minCertificateTtl(Duration v) { minCertificateTtl = v; return this; }
        public Builder certificateTtl(Duration v) { certificateTtl = v; return this; }
        /** Rotate the root automatically when less than this share of its lifetime is left (0 disables; default 0.2). */
        public Builder rootRotationShare(double v) { rootRotationShare = v; return this; }
        /** Stage 3 of a root rotation re-issues the fleet at random instants within this window (default 1 minute). */
        public Builder rootRotationReissueWindow(Duration v) { rootRotationReissueWindow = v; return this; }
        /** Kubernetes mode: xDS/SDS streams may also authenticate with a projected service-account token (TokenReview). */
        public Builder serviceAccountTokens(dev.septa.controlplane.auth.ServiceAccountTokens v) { serviceAccountTokens = v; return this; }
        /** Where the built-in CA lives (default: files in {@code stateDir/ca}; Kubernetes mode: Secrets). */
        public Builder caStores(dev.septa.ca.RotationStores v) { caStores = v; return this; }
        /** A part of {@code septa serve} beyond the core (Kubernetes mode); started and closed with the control plane. */
        public Builder contribute(ServeContribution v) { contributions.add(v); return this; }
        /** Kubernetes mode: accept service-account tokens bound to no pod, for every pod of the account (warned in status). */
        public Builder unboundServiceAccountTokens(boolean v) { unboundServiceAccountTokens = v; return this; }

        public Builder auditToStdout(boolean v) { auditToStdout = v; return this; }

        public ControlPlaneOptions build() {
            return new ControlPlaneOptions(intentsDir, inventoryFile, stateDir, xdsHost, xdsPort, httpHost, httpPort,
                    debounceQuiet, debounceMaxDelay, pollInterval, source, compilation, certificates,
                    minCertificateTtl, certificateTtl, rootRotationShare, rootRotationReissueWindow, serviceAccountTokens, caStores,
                    contributions, unboundServiceAccountTokens, auditToStdout);
        }
    }
}
