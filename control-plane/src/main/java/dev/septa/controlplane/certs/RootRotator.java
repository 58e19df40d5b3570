package dev.septa.controlplane.certs;

import dev.septa.ca.RootRotation;
import dev.septa.controlplane.xds.ProxyConfigCache;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives a staged root rotation ({@link RootRotation}) through the fleet: each stage starts only when every connected
 * workload has ACKed what the previous stage sent it, plus a settle time for file-based consumers (grpc's
 * file_watcher re-reads the agent's files every {@code refresh_interval}).
 * <ol>
 *   <li>on request ({@code septa ca rotate}) or when the root has less than {@code autoShare} of its lifetime left:
 *       the new root joins the bundle; every workload gets the two-root bundle over SDS;</li>
 *   <li>once all have ACKed it: the new root signs, and every workload certificate is re-issued;</li>
 *   <li>once every connected workload holds (and ACKed) a certificate from the new root: the old root leaves the
 *       bundle, and the one-root bundle is pushed.</li>
 * </ol>
 * The stage lives in the CA store; after a restart the entry actions of the stored stage run again (they are
 * idempotent), so the rotation finishes. The xDS server's own certificate and client trust follow each stage.
 */
public final class RootRotator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RootRotator.class);

    /** {@code autoShare}: rotate when the root has less than this share of its lifetime left (0 disables). */
    public record Options(double autoShare, Duration settle, Duration tick) {
        public static final Options DEFAULT = new Options(0.2, Duration.ofSeconds(3), Duration.ofMillis(250));
    }

    /** For {@code septa status}: the stage, the roots in the bundle, and the workloads the stage waits for. */
    public record Status(String stage, List<String> roots, Set<String> waitingFor, Instant since, String lastError) {}

    private final CaWorkloadCertificates certificates;
    private final SecretIssuer secrets;
    private final ProxyConfigCache cache;
    private final Runnable credentialsChanged;
    private final Clock clock;
    private final Options options;
    private final ScheduledExecutorService ticker =
            Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("septa-root-rotation").factory());
    private volatile boolean requested;
    private volatile String entered; // the stage (plus bundle) whose entry actions ran
    private volatile Instant settledSince;
    private volatile Instant since = Instant.now();
    private volatile Set<String> waitingFor = Set.of();
    private volatile String lastError;
    private volatile boolean finishing;

    public RootRotator(CaWorkloadCertificates certificates, SecretIssuer secrets, ProxyConfigCache cache,
                       Runnable credentialsChanged, Clock clock, Options options) {
        this.certificates = certificates;
        this.secrets = secrets;
        this.cache = cache;
        this.credentialsChanged = credentialsChanged;
        this.clock = clock;
        this.options = options;
    }

    public RootRotator start() {
        long tick = options.tick().toMillis();
        ticker.scheduleWithFixedDelay(this::tickSafely, tick, tick, TimeUnit.MILLISECONDS);
        return this;
    }

    /** {@code septa ca rotate}: start a rotation at the next tick (ignored while one is under way). */
    public void request() {
        requested = true;
    }

    public RootRotation.Stage stage() {
        return certificates.rootRotation().stage();
    }

    public Status status() {
        RootRotation rotation = certificates.rootRotation();
        String stage = switch (rotation.stage()) {
            case NONE -> requested ? "requested" : finishing ? "completing: pushing the one-root bundle" : "idle";
            case BUNDLE_EXTENDED -> "1-2 new root in the bundle, waiting for every workload to ACK it";
            case SIGNER_SWITCHED -> "3 new root signs, re-issuing every workload certificate";
        };
        return new Status(stage, rotation.roots().stream().map(RootRotator::describe).toList(), waitingFor, since, lastError);
    }

    static String describe(X509Certificate root) {
        return root.getSubjectX500Principal().getName() + " until " + root.getNotAfter().toInstant();
    }

    private void tickSafely() {
        try {
            tick();
            lastError = null;
        } catch (RuntimeException e) {
            lastError = e.getMessage();
            LOG.error("root rotation: {}", e.getMessage());
        }
    }

    private void tick() {
        RootRotation rotation = certificates.rootRotation();
        String bundle = certificates.trustBundlePem();
        RootRotation.Stage stage = rotation.stage();
        String key = stage + "|" + bundle.hashCode();
        if (!key.equals(entered)) {
            if (entered != null || stage != RootRotation.Stage.NONE) {
                enter(stage); // at a start with no rotation under way there is nothing to redo
            }
            entered = key;
            settledSince = null;
            since = clock.instant();
            return;
        }
        switch (stage) {
            case NONE -> {
                if (finishing) {
                    finishing = !settled(behind(bundle, null));
                }
                if (!finishing && (requested || (options.autoShare() > 0 && rotation.due(options.autoShare())))) {
                    requested = false;
                    LOG.info("root rotation: stage 1, adding a new root to the trust bundle");
                    rotation.begin();
                }
            }
            case BUNDLE_EXTENDED -> {
                if (settled(behind(bundle, null))) {
                    LOG.info("root rotation: every workload holds the new bundle; stage 3, the new root signs");
                    rotation.switchSigner();
                }
            }
            case SIGNER_SWITCHED -> {
                String issuer = certificates.signingCertificate().getSubjectX500Principal().getName();
                if (settled(behind(bundle, issuer))) {
                    LOG.info("root rotation: every workload certificate chains to the new root; stage 4, retiring the old root");
                    rotation.retireOldRoots();
                    finishing = true;
                }
            }
        }
    }

    private void enter(RootRotation.Stage stage) {
        credentialsChanged.run();
        secrets.trustBundleChanged();
        if (stage == RootRotation.Stage.SIGNER_SWITCHED) {
            secrets.reissueAll();
        }
    }

    private Set<String> behind(String bundle, String issuer) {
        Set<String> out = new TreeSet<>(secrets.behind(bundle, issuer));
        out.addAll(cache.secretsNotAcked());
        waitingFor = Set.copyOf(out);
        return out;
    }

    /** True once nothing was behind for the whole settle time. */
    private boolean settled(Set<String> behind) {
        if (!behind.isEmpty()) {
            settledSince = null;
            return false;
        }
        Instant now = clock.instant();
        if (settledSince == null) {
            settledSince = now;
        }
        return !now.isBefore(settledSince.plus(options.settle()));
    }

    @Override
    public void close() {
        ticker.shutdownNow();
    }
}
