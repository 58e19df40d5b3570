package dev.septa.ca;

import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The CA's side of a staged rotation of the signing CA, persisted next to the CA so that a restart at any stage
 * resumes. The successor is either a new root that Septa generates (when Septa's own root signs), or material an
 * operator supplies: a new intermediate under the same root, or a new intermediate under a new root (staged by
 * {@code septa ca rotate --intermediate-cert ...} in the incoming store, see {@link #stageSuccessor}). The stores are
 * a {@link RotationStores}: a directory ({@code DIR}, {@code DIR/next/}, {@code DIR/incoming/}, {@code DIR/rotation-stage})
 * in local mode, Kubernetes Secrets in Kubernetes mode.
 * <ol>
 *   <li>{@link #begin()} / {@link #beginStaged()}: the successor is kept in {@code DIR/next/} (a second
 *       {@link FileCaKeyStore}, holding the successor's own roots); the trust bundle becomes old roots + the
 *       successor's roots (unchanged when the root stays). Stage {@link Stage#BUNDLE_EXTENDED}.</li>
 *   <li>(the control plane pushes the bundle and waits until every workload has it)</li>
 *   <li>{@link #switchSigner()}: the successor signs from now on; the bundle still holds every root. Stage
 *       {@link Stage#SIGNER_SWITCHED}. (The control plane re-issues every workload certificate.)</li>
 *   <li>{@link #retireOldRoots()}: once every live certificate comes from the successor, the bundle is the
 *       successor's roots alone; {@code DIR/next/} is removed. Stage {@link Stage#NONE}.</li>
 * </ol>
 * Each store save is all-or-nothing ({@link FileCaKeyStore}). The stage is one small file, {@code DIR/rotation-stage},
 * replaced atomically <em>after</em> the stores it describes were written, and {@link #open} repairs a crash between
 * the two: it re-derives the stage from what the stores hold, and uses the stage file only where the stores cannot
 * tell (a new intermediate under the same root leaves the bundle unchanged). Thread-safe (synchronized): stage
 * changes are rare.
 */
public final class RootRotation {

    /** Where a rotation stands. */
    public enum Stage { NONE, BUNDLE_EXTENDED, SIGNER_SWITCHED }

    /** Where {@code septa ca rotate --intermediate-cert ...} leaves an operator's successor (file stores). */
    public static final String INCOMING_DIR = FileRotationStores.INCOMING_DIR;

    private final CertificateAuthority ca;
    private final RotationStores stores;
    private final CaKeyStore current;
    private final CaKeyStore next;
    private final CaKeyStore incoming;
    private final Clock clock;
    private Stage stage;

    private RootRotation(CertificateAuthority ca, RotationStores stores, Clock clock) {
        this.ca = ca;
        this.stores = stores;
        this.current = stores.current();
        this.next = stores.next();
        this.incoming = stores.incoming();
        this.clock = clock;
    }

    /** Reads the rotation state of the CA kept in {@code store} (that {@code ca} was opened from) and resumes it. */
    public static RootRotation open(CertificateAuthority ca, FileCaKeyStore store, Clock clock) {
        return open(ca, new FileRotationStores(store.directory()), clock);
    }

    /** Reads the rotation state kept in {@code stores} (whose current store {@code ca} was opened from) and resumes it. */
    public static RootRotation open(CertificateAuthority ca, RotationStores stores, Clock clock) {
        var rotation = new RootRotation(ca, stores, clock);
        rotation.resume();
        return rotation;
    }

    /** {@link #stageSuccessor(CaMaterial, RotationStores, CaConfig, Clock)} for the CA in a directory. */
    public static void stageSuccessor(CaMaterial successor, Path caDirectory, CaConfig config, Clock clock) {
        stageSuccessor(successor, new FileRotationStores(caDirectory), config, clock);
    }

    /**
     * Checks an operator's successor against the CA in {@code stores} and leaves it in their incoming store, where the
     * control plane picks it up ({@link #beginStaged()}). Refused, with the reason, when it is for another trust
     * domain, is the current signer, or fails the checks a signer must pass.
     */
    public static void stageSuccessor(CaMaterial successor, RotationStores stores, CaConfig config, Clock clock) {
        CaMaterial now = stores.current().load().orElseThrow(() -> new CaStoreException("no CA in "
                + stores.current().location() + " to rotate; create one with: septa ca init"));
        checkSuccessor(successor, now, config, clock);
        if (stores.next().load().isPresent()) {
            throw new IllegalStateException("a rotation is already under way in " + stores.current().location()
                    + "; wait until `septa status` shows it idle, then stage the next one");
        }
        stores.incoming().save(successor);
    }

    public synchronized Stage stage() {
        return stage;
    }

    /** The roots in the bundle now, oldest first. */
    public List<X509Certificate> roots() {
        return ca.trustBundle().roots();
    }

    /** True when {@code root} has less than {@code share} of its lifetime left at {@code now} (pure). */
    public static boolean due(X509Certificate root, Instant now, double share) {
        Instant notBefore = root.getNotBefore().toInstant();
        Instant notAfter = root.getNotAfter().toInstant();
        long lifetime = Duration.between(notBefore, notAfter).toMillis();
        long left = Duration.between(now, notAfter).toMillis();
        return left < lifetime * share;
    }

    /** Whether the signer has less than {@code share} of its lifetime left. */
    public boolean due(double share) {
        return stage() == Stage.NONE && due(ca.signingCertificate(), clock.instant(), share);
    }

    /** Whether Septa can make the successor itself: its own root signs (an operator's intermediate needs the operator). */
    public boolean generatesSuccessor() {
        return ca.trustBundle().contains(ca.signingCertificate());
    }

    /** Whether an operator's successor waits to be picked up. */
    public boolean hasStagedSuccessor() {
        return stores.incomingPresent();
    }

    /** How an operator stages a successor for this CA (for messages). */
    public String stagingHint() {
        return stores.stagingHint();
    }

    /** Stage 1 with a new root generated here. Refused unless no rotation is under way and Septa's own root signs. */
    public synchronized void begin() {
        requireIdle();
        if (!generatesSuccessor()) {
            throw new IllegalStateException("this CA signs with an operator-supplied intermediate, which Septa cannot"
                    + " renew itself: stage its successor with `" + stores.stagingHint() + "`");
        }
        // A successor saved by an attempt that failed half-way (a full state directory) is taken up again, as a
        // restart would (open() resumes it); a fresh one would leave that root orphaned in the bundle.
        begin(next.load().orElseGet(() -> RootCaGenerator.generate(ca.config(), clock)));
    }

    /**
     * Stage 1 with the successor an operator staged in {@code DIR/incoming/}; false when nothing is staged (or it is
     * still being written). The staged files are removed whether or not they are accepted (a refusal is thrown
     * with its reason, once).
     */
    public synchronized boolean beginStaged() {
        if (stage != Stage.NONE || !stores.incomingPresent()) {
            return false;
        }
        Optional<CaMaterial> staged;
        try {
            staged = incoming.load();
        } catch (CaException e) {
            incoming.delete();
            throw e;
        }
        if (staged.isEmpty()) {
            return false;
        }
        try {
            begin(staged.get());
        } finally {
            incoming.delete();
        }
        return true;
    }

    /** Stage 1 with the given successor (a new root, or an intermediate and its roots). */
    public synchronized void begin(CaMaterial successor) {
        requireIdle();
        CaMaterial now = current.load().orElseThrow();
        checkSuccessor(successor, now, ca.config(), clock);
        next.save(successor);
        CaMaterial extended = new CaMaterial(now.signingKey(), now.signingCertificate(), now.intermediates(),
                union(now.trustBundle(), successor.trustBundle()));
        current.save(extended);
        writeStage(Stage.BUNDLE_EXTENDED);
        ca.replaceMaterial(extended);
    }

    /** Stage 3: the successor signs; every root stays trusted. */
    public synchronized void switchSigner() {
        require(Stage.BUNDLE_EXTENDED);
        CaMaterial successor = successor();
        CaMaterial now = current.load().orElseThrow();
        CaMaterial switched = new CaMaterial(successor.signingKey(), successor.signingCertificate(),
                successor.intermediates(), union(now.trustBundle(), successor.trustBundle()));
        current.save(switched);
        writeStage(Stage.SIGNER_SWITCHED);
        ca.replaceMaterial(switched);
    }

    /** Stage 4: only the successor's roots stay in the bundle. */
    public synchronized void retireOldRoots() {
        require(Stage.SIGNER_SWITCHED);
        CaMaterial successor = successor();
        CaMaterial now = current.load().orElseThrow();
        CaMaterial alone = new CaMaterial(now.signingKey(), now.signingCertificate(), now.intermediates(),
                successor.trustBundle());
        current.save(alone);
        writeStage(Stage.NONE);
        ca.replaceMaterial(alone);
        next.delete();
    }

    private CaMaterial successor() {
        return next.load().orElseThrow(() -> new CaStoreException(next.location() + " lost the successor CA"
                + " of the rotation under way; restore it from a backup"));
    }

    private static void checkSuccessor(CaMaterial successor, CaMaterial now, CaConfig config, Clock clock) {
        if (!successor.trustBundle().trustDomain().equals(now.trustBundle().trustDomain())) {
            throw new InvalidSigningCaException("the new CA is for trust domain '" + successor.trustBundle().trustDomain()
                    + "' but this CA is for '" + now.trustBundle().trustDomain() + "'");
        }
        if (successor.signingCertificate().equals(now.signingCertificate())) {
            throw new InvalidSigningCaException("the new CA is the one signing now ("
                    + now.signingCertificate().getSubjectX500Principal().getName() + "); supply its successor");
        }
        SigningCaValidator.validate(successor, config, clock, new SigningCaValidator.Sources(
                "the new signing material", "the new signing material", "the new trust bundle"));
    }

    private static TrustBundle union(TrustBundle a, TrustBundle b) {
        TrustBundle out = a;
        for (X509Certificate root : b.roots()) {
            out = out.withRoot(root);
        }
        return out;
    }

    private void requireIdle() {
        if (stage != Stage.NONE) {
            throw new IllegalStateException("a rotation is already under way (stage " + stage + ")");
        }
    }

    private void require(Stage expected) {
        if (stage != expected) {
            throw new IllegalStateException("root rotation is at stage " + stage + ", not " + expected);
        }
    }

    /** Re-derives the stage from the stores, so a crash between a store write and the stage write is harmless. */
    private synchronized void resume() {
        rederive(true);
    }

    /**
     * Follows a rotation another process drives (Kubernetes mode's leader): loads the CA from its store if it changed
     * (signer or bundle) and re-derives the stage from the stores. With {@code mayWrite} false nothing is written: a
     * repair the stores need (a crash in the middle of a stage) is left to the writer, and this process goes on with
     * what the stores hold. Call it with {@code mayWrite} true once this process becomes the writer.
     */
    public synchronized void reload(boolean mayWrite) {
        CaMaterial stored = current.load().orElseThrow(() -> new CaStoreException(current.location() + " is empty"));
        if (!stored.signingCertificate().equals(ca.signingCertificate())
                || !stored.trustBundle().roots().equals(ca.trustBundle().roots())) {
            ca.replaceMaterial(stored);
        }
        rederive(mayWrite);
    }

    private void rederive(boolean mayWrite) {
        Stage written = readStage();
        Optional<CaMaterial> pending = next.load();
        if (pending.isEmpty()) {
            stage = Stage.NONE;
        } else if (!pending.get().signingCertificate().equals(ca.signingCertificate())) {
            stage = Stage.BUNDLE_EXTENDED;
            if (mayWrite && !ca.trustBundle().roots().containsAll(pending.get().trustBundle().roots())) {
                // Crashed after saving the successor but before extending the current bundle: finish stage 1.
                CaMaterial now = current.load().orElseThrow();
                CaMaterial extended = new CaMaterial(now.signingKey(), now.signingCertificate(), now.intermediates(),
                        union(now.trustBundle(), pending.get().trustBundle()));
                current.save(extended);
                ca.replaceMaterial(extended);
            }
        } else if (!ca.trustBundle().roots().equals(pending.get().trustBundle().roots())) {
            stage = Stage.SIGNER_SWITCHED; // old roots still in the bundle
        } else {
            // The successor signs and the bundle is its own: retired, unless the root never changed (a new
            // intermediate under the same root), where only the stage file tells stage 3 from done.
            stage = written == Stage.NONE ? Stage.NONE : Stage.SIGNER_SWITCHED;
        }
        if (!mayWrite) {
            return;
        }
        if (stage == Stage.NONE && pending.isPresent()) {
            next.delete();
        }
        if (stage != written) {
            writeStage(stage);
        }
    }

    private Stage readStage() {
        String written = stores.readStage();
        try {
            return written == null ? Stage.NONE : Stage.valueOf(written.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return Stage.NONE; // re-derived from the stores anyway
        }
    }

    private void writeStage(Stage s) {
        stores.writeStage(s.name().toLowerCase(Locale.ROOT));
        stage = s;
    }

    @Override
    public String toString() {
        return "RootRotation[" + stage + ", " + ca.trustBundle() + "]";
    }

}
