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
 * Drives a staged rotation of the signing CA ({@link RootRotation}) through the fleet: each stage starts only when
 * every connected workload has ACKed what the previous stage sent it, plus a settle time for file-based consumers
 * (grpc's file_watcher re-reads the agent's files every {@code refresh_interval}).
 * <ol>
 *   <li>on request ({@code septa ca rotate}), when an operator staged a successor intermediate
 *       ({@code septa ca rotate --intermediate-cert ...}), or when Septa's own root has less than {@code autoShare}
 *       of its lifetime left: the successor's root joins the bundle; every workload gets the extended bundle over SDS;</li>
 *   <li>once all have ACKed it: the successor signs, and every workload certificate is re-issued, spread over
 *       {@code reissueWindow};</li>
 *   <li>once every connected workload holds (and ACKed) a certificate from the successor: the old root leaves the
 *       bundle, and the final bundle is pushed.</li>
 * </ol>
 * An operator's intermediate cannot be renewed here: when it nears its end, the status says so and names the command.
 * The stage lives in the CA store; after a restart the entry actions of the stored stage run again (they are
 * idempotent), so the rotation finishes. The xDS server's own certificate and client trust follow each stage.
 */
public final class FleetRotationDriver implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FleetRotationDriver.class);

    /**
     * {@code autoShare}: rotate when the signer has less than this share of its lifetime left (0 disables);
     * {@code reissueWindow}: stage 3 re-issues the fleet at random instants within this window.
     */
    public record Options(double autoShare, Duration settle, Duration tick, Duration reissueWindow) {
        public static final Options DEFAULT = new Options(0.2, Duration.ofSeconds(3), Duration.ofMillis(250), Duration.ofMinutes(1));
    }

    /**
     * For {@code septa status}: the stage, the signer, the roots in the bundle, the workloads the stage waits for,
     * and what needs the operator (an operator intermediate near its end).
     */
    public record Status(String stage, String signer, List<String> roots, Set<String> waitingFor, Instant since,
                         String lastError, String attention) {}

    private final CaWorkloadCertificates certificates;
    private final SecretIssuer secrets;
    private final ProxyConfigCache cache;
    private final Runnable credentialsChanged;
    private final Clock clock;
    private final Options options;
    private final ScheduledExecutorService ticker =
            Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("septa-root-rotation").factory());
    private volatile boolean requested;
    /** How often a follower re-reads the CA and the stage from the stores. */
    public static final Duration FOLLOW_EVERY = Duration.ofSeconds(1);
    private volatile java.util.function.BooleanSupplier leads = () -> true;
    /** Whether the previous tick led (the lone writer of local mode always has). */
    private boolean wasLeading = true;
    private Instant lastFollow;
    private volatile String entered; // the stage (plus bundle) whose entry actions ran
    private volatile Instant settledSince;
    private volatile Instant since = Instant.now();
    private volatile Set<String> waitingFor = Set.of();
    private volatile String lastError;
    private volatile boolean finishing;
    private volatile String attention;
    private volatile java.util.function.Consumer<Status> onChange = status -> { };
    private String reported; // the status last told to onChange
    /** Four times the agent's longest reconnect backoff (15 s). */
    static final Duration ABSENT_GRACE = Duration.ofSeconds(60);
    private volatile Duration absentGrace = ABSENT_GRACE;
    /** Whether other replicas serve part of the fleet (set by {@link #leadOnlyWhile}). */
    private volatile boolean replicated;
    private final java.util.function.Supplier<Set<String>> meshNodes;
    /** Mesh workloads not connected, and since when this rotator has missed them (touched on the ticker thread). */
    private final java.util.Map<String, Instant> absentSince = new java.util.HashMap<>();

    public FleetRotationDriver(CaWorkloadCertificates certificates, SecretIssuer secrets, ProxyConfigCache cache,
                       Runnable credentialsChanged, Clock clock, Options options) {
        this(certificates, secrets, cache, credentialsChanged, Set::of, clock, options);
    }

    /**
     * {@code meshNodes}: the workloads of the mesh in force. One that is not connected is waited for too, for up to
     * {@link #ABSENT_GRACE} (an agent backing off after a control plane restart, a pod restarting): moving on without
     * it would leave it holding a bundle without the successor's root, unable to verify the control plane again.
     */
    public FleetRotationDriver(CaWorkloadCertificates certificates, SecretIssuer secrets, ProxyConfigCache cache,
                       Runnable credentialsChanged, java.util.function.Supplier<Set<String>> meshNodes, Clock clock,
                       Options options) {
        this.meshNodes = meshNodes;
        this.certificates = certificates;
        this.secrets = secrets;
        this.cache = cache;
        this.credentialsChanged = credentialsChanged;
        this.clock = clock;
        this.options = options;
    }

    /**
     * With several replicas (Kubernetes mode), only the one for which {@code leads} holds moves the rotation on; the
     * others follow it: every {@link #FOLLOW_EVERY} they reload the CA and the stage from the stores the leader writes,
     * and run each new stage's entry actions for their own workloads (the new bundle, the new signer). A replica that
     * becomes the leader reloads once with repairs allowed, then goes on from the stage the stores hold.
     */
    public FleetRotationDriver leadOnlyWhile(java.util.function.BooleanSupplier leads) {
        this.leads = leads;
        this.replicated = true;
        return this;
    }

    /**
     * How long a stage waits for a mesh workload this replica does not see connected ({@link #ABSENT_GRACE} unless set;
     * tests shorten it). With replicas, the workloads connected to the others are never seen by the leader: each stage
     * then waits the grace again from its start, and stage 3 also the re-issue window, within which their own replica
     * re-issues them from the new signer (it follows the stage within {@link #FOLLOW_EVERY}). Otherwise the old root
     * could leave the bundle while a workload served by another replica still holds a certificate it verifies.
     */
    public FleetRotationDriver absentGrace(Duration grace) {
        this.absentGrace = grace;
        return this;
    }

    /**
     * Told of every status the driver moves to (a new stage, signer or roots, a save failing or recovering), on the
     * driver's thread right after the tick that made it; the idle status at start is not a change. For the audit log.
     */
    public FleetRotationDriver onStatusChange(java.util.function.Consumer<Status> listener) {
        this.onChange = listener;
        return this;
    }

    public FleetRotationDriver start() {
        long tick = options.tick().toMillis();
        ticker.scheduleWithFixedDelay(this::tickSafely, tick, tick, TimeUnit.MILLISECONDS);
        return this;
    }

    /**
     * {@code septa ca rotate}: start a rotation at the next tick (ignored while one is under way). Refused, with the
     * reason, when the signer is an operator's intermediate and no successor is staged: only the operator can make one.
     */
    public java.util.Optional<String> request() {
        if (!leads.getAsBoolean()) {
            return java.util.Optional.of("this replica does not lead: the leader (holder of Lease septa-leader) drives"
                    + " root rotations; send the request to its pod");
        }
        RootRotation rotation = certificates.rootRotation();
        if (rotation.stage() == RootRotation.Stage.NONE && !rotation.generatesSuccessor() && !rotation.hasStagedSuccessor()) {
            return java.util.Optional.of("this control plane signs with the operator-supplied intermediate "
                    + describe(certificates.signingCertificate()) + ", which Septa cannot renew itself: stage its successor"
                    + " with `" + rotation.stagingHint() + "`");
        }
        requested = true;
        return java.util.Optional.empty();
    }

    public RootRotation.Stage stage() {
        return certificates.rootRotation().stage();
    }

    public Status status() {
        RootRotation rotation = certificates.rootRotation();
        String stage = switch (rotation.stage()) {
            case NONE -> requested ? "requested" : finishing ? "completing: pushing the final bundle" : "idle";
            case BUNDLE_EXTENDED -> "1-2 successor's root in the bundle, waiting for every workload to ACK it";
            case SIGNER_SWITCHED -> "3 successor signs, re-issuing every workload certificate";
        };
        return new Status(stage, describe(certificates.signingCertificate()),
                rotation.roots().stream().map(FleetRotationDriver::describe).toList(), waitingFor, since, lastError, attention);
    }

    static String describe(X509Certificate root) {
        return root.getSubjectX500Principal().getName(javax.security.auth.x500.X500Principal.RFC2253,
                java.util.Map.of("2.5.4.5", "SERIALNUMBER")) + " until " + root.getNotAfter().toInstant();
    }

    /**
     * A failing stage change (the CA store cannot be written: a full or read-only state directory) is retried every
     * tick; in memory nothing moves past what was saved, so workloads keep the bundle and certificates they hold. The
     * error stays in {@link #status()} until a tick succeeds, and is logged once per distinct message, not per tick.
     */
    private void tickSafely() {
        try {
            tick();
            if (lastError != null) {
                LOG.info("root rotation: carrying on, the earlier error is gone ({})", lastError);
            }
            lastError = null;
        } catch (RuntimeException e) {
            String message = e.getMessage() == null ? e.toString() : e.getMessage();
            if (!message.equals(lastError)) {
                LOG.error("root rotation cannot go on, retrying every {} ms: {}", options.tick().toMillis(), message);
            }
            lastError = message;
        }
        reportIfChanged();
    }

    private void reportIfChanged() {
        Status s = status();
        String key = s.stage() + "|" + s.signer() + "|" + s.roots() + "|" + s.lastError();
        boolean idleAtStart = reported == null && s.stage().equals("idle") && s.lastError() == null;
        if (key.equals(reported)) {
            return;
        }
        reported = key;
        if (!idleAtStart) {
            try {
                onChange.accept(s);
            } catch (RuntimeException e) {
                LOG.warn("a root rotation status listener failed: {}", e.toString());
            }
        }
    }

    private void tick() {
        RootRotation rotation = certificates.rootRotation();
        boolean leading = leads.getAsBoolean();
        if (!leading) {
            if (lastFollow == null || !clock.instant().isBefore(lastFollow.plus(FOLLOW_EVERY))) {
                lastFollow = clock.instant();
                rotation.reload(false);
            }
            wasLeading = false;
        } else if (!wasLeading) {
            rotation.reload(true); // just became the writer: take over from the stores, repairing a half-done stage
            wasLeading = true;
        }
        String bundle = certificates.trustBundlePem();
        RootRotation.Stage stage = rotation.stage();
        String key = stage + "|" + bundle.hashCode();
        if (!key.equals(entered)) {
            if (entered != null || stage != RootRotation.Stage.NONE) {
                enter(stage); // at a start with no rotation under way there is nothing to redo
            }
            entered = key;
            if (replicated) {
                absentSince.clear(); // on the ticker thread, like behind(): each stage waits for the unseen again
            }
            settledSince = null;
            since = clock.instant();
            return;
        }
        if (!leading) {
            return; // followers push what the leader's stage holds (enter, above), and never move it on
        }
        switch (stage) {
            case NONE -> {
                if (finishing) {
                    finishing = !settled(behind(bundle, null));
                }
                if (!finishing) {
                    maybeBegin(rotation);
                }
            }
            case BUNDLE_EXTENDED -> {
                if (settled(behind(bundle, null))) {
                    LOG.info("CA rotation: every workload holds the new bundle; stage 3, the successor signs");
                    rotation.switchSigner();
                }
            }
            case SIGNER_SWITCHED -> {
                String signer = CaWorkloadCertificates.fingerprint(certificates.signingCertificate());
                if (settled(behind(bundle, signer))) {
                    LOG.info("CA rotation: every workload certificate comes from the successor; stage 4, retiring the old root");
                    rotation.retireOldRoots();
                    finishing = true;
                }
            }
        }
    }

    /** Stage 1, from an operator's staged successor, a request, or the signer's age; a request that needs the operator is refused. */
    private void maybeBegin(RootRotation rotation) {
        if (rotation.beginStaged()) {
            requested = false;
            attention = null;
            LOG.info("CA rotation: stage 1, the operator's successor CA joins; its roots are added to the trust bundle");
            return;
        }
        boolean due = options.autoShare() > 0 && rotation.due(options.autoShare());
        if (!requested && !due) {
            attention = null;
            return;
        }
        if (!rotation.generatesSuccessor()) {
            requested = false;
            X509Certificate signer = certificates.signingCertificate();
            String message = "the operator-supplied intermediate " + describe(signer) + (due ? " is near its end" : " signs")
                    + "; Septa cannot renew it: stage its successor with `" + rotation.stagingHint() + "`";
            if (!message.equals(attention)) {
                LOG.warn("CA rotation: {}", message);
            }
            attention = message;
            return;
        }
        attention = null;
        rotation.begin();
        requested = false; // only once stage 1 is saved: a store that cannot be written keeps the request for the next tick
        LOG.info("root rotation: stage 1, a new root added to the trust bundle");
    }

    private void enter(RootRotation.Stage stage) {
        credentialsChanged.run();
        secrets.trustBundleChanged();
        if (stage == RootRotation.Stage.SIGNER_SWITCHED) {
            secrets.reissueAll(options.reissueWindow());
        }
    }

    private Set<String> behind(String bundle, String signer) {
        Set<String> out = new TreeSet<>(secrets.behind(bundle, signer));
        // What each stream ACKed must carry the stage's bundle (and signer), not be the latest push: with short-lived
        // certificates some renewal is always awaiting its ACK, and waiting for none would never settle.
        out.addAll(secrets.notHolding(bundle, signer, cache.secretsAcked()));
        Set<String> connected = cache.connectedNodes();
        Instant now = clock.instant();
        Set<String> expected = meshNodes.get();
        Duration grace = replicated && signer != null ? absentGrace.plus(options.reissueWindow()) : absentGrace;
        absentSince.keySet().retainAll(expected);
        for (String node : expected) {
            if (connected.contains(node)) {
                absentSince.remove(node);
            } else if (now.isBefore(absentSince.computeIfAbsent(node, n -> now).plus(grace))) {
                out.add(node);
            }
        }
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
