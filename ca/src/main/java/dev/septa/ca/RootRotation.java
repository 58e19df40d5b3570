package dev.septa.ca;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The CA's side of a staged root rotation, persisted next to the CA so that a restart at any stage resumes:
 * <ol>
 *   <li>{@link #begin()}: a new root is generated and kept in {@code DIR/next/} (a second {@link FileCaKeyStore});
 *       the trust bundle becomes old roots + new root, in both stores. Stage {@link Stage#BUNDLE_EXTENDED}.</li>
 *   <li>(the control plane pushes the bundle and waits until every workload has it)</li>
 *   <li>{@link #switchSigner()}: the new root signs from now on; the bundle still holds both. Stage
 *       {@link Stage#SIGNER_SWITCHED}. (The control plane re-issues every workload certificate.)</li>
 *   <li>{@link #retireOldRoots()}: once every live certificate chains to the new root, the bundle is the new root
 *       alone; {@code DIR/next/} is removed. Stage {@link Stage#NONE}.</li>
 * </ol>
 * The stage is one small file, {@code DIR/rotation-stage}, replaced atomically <em>after</em> the stores it
 * describes were written, and {@link #open} repairs a crash between the two (it re-derives the stage from what the
 * stores hold). Thread-safe (synchronized): stage changes are rare.
 */
public final class RootRotation {

    /** Where a rotation stands. */
    public enum Stage { NONE, BUNDLE_EXTENDED, SIGNER_SWITCHED }

    static final String STAGE_FILE = "rotation-stage";
    static final String NEXT_DIR = "next";

    private final CertificateAuthority ca;
    private final FileCaKeyStore current;
    private final FileCaKeyStore next;
    private final Path stageFile;
    private final Clock clock;
    private Stage stage;

    private RootRotation(CertificateAuthority ca, FileCaKeyStore current, Clock clock) {
        this.ca = ca;
        this.current = current;
        this.next = new FileCaKeyStore(current.directory().resolve(NEXT_DIR));
        this.stageFile = current.directory().resolve(STAGE_FILE);
        this.clock = clock;
    }

    /** Reads the rotation state of the CA kept in {@code store} (that {@code ca} was opened from) and resumes it. */
    public static RootRotation open(CertificateAuthority ca, FileCaKeyStore store, Clock clock) {
        var rotation = new RootRotation(ca, store, clock);
        rotation.resume();
        return rotation;
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

    /** Whether the signing root has less than {@code share} of its lifetime left. */
    public boolean due(double share) {
        return stage() == Stage.NONE && due(ca.signingCertificate(), clock.instant(), share);
    }

    /** Stage 1. Refused unless no rotation is under way. */
    public synchronized void begin() {
        if (stage != Stage.NONE) {
            throw new IllegalStateException("a root rotation is already under way (stage " + stage + ")");
        }
        if (!ca.trustBundle().contains(ca.signingCertificate())) {
            throw new IllegalStateException("this CA signs with an operator intermediate; replace it with `septa ca init`"
                    + " (intermediate rotation is not automated yet)");
        }
        CaMaterial now = current.load().orElseThrow();
        CaMaterial fresh = RootCaGenerator.generate(ca.config(), clock);
        TrustBundle both = now.trustBundle().withRoot(fresh.signingCertificate());
        next.save(new CaMaterial(fresh.signingKey(), fresh.signingCertificate(), List.of(), both));
        CaMaterial extended = new CaMaterial(now.signingKey(), now.signingCertificate(), now.intermediates(), both);
        current.save(extended);
        writeStage(Stage.BUNDLE_EXTENDED);
        ca.replaceMaterial(extended);
    }

    /** Stage 3: the new root signs; both roots stay trusted. */
    public synchronized void switchSigner() {
        require(Stage.BUNDLE_EXTENDED);
        CaMaterial newRoot = next.load().orElseThrow(() -> new CaStoreException(next.location() + " lost the new root"));
        current.save(newRoot);
        writeStage(Stage.SIGNER_SWITCHED);
        ca.replaceMaterial(newRoot);
    }

    /** Stage 4: only the new root stays in the bundle. */
    public synchronized void retireOldRoots() {
        require(Stage.SIGNER_SWITCHED);
        CaMaterial now = current.load().orElseThrow();
        CaMaterial alone = new CaMaterial(now.signingKey(), now.signingCertificate(), List.of(),
                TrustBundle.of(now.trustBundle().trustDomain(), now.signingCertificate()));
        current.save(alone);
        writeStage(Stage.NONE);
        ca.replaceMaterial(alone);
        deleteNext();
    }

    private void require(Stage expected) {
        if (stage != expected) {
            throw new IllegalStateException("root rotation is at stage " + stage + ", not " + expected);
        }
    }

    /** Re-derives the stage from the stores, so a crash between a store write and the stage write is harmless. */
    private synchronized void resume() {
        Stage written = readStage();
        var pending = Files.isDirectory(next.directory()) ? next.load() : java.util.Optional.<CaMaterial>empty();
        X509Certificate signer = ca.signingCertificate();
        if (pending.isEmpty()) {
            stage = Stage.NONE;
        } else if (pending.get().signingCertificate().equals(signer)) {
            stage = ca.trustBundle().roots().size() > 1 ? Stage.SIGNER_SWITCHED : Stage.NONE;
        } else {
            stage = Stage.BUNDLE_EXTENDED;
            if (!ca.trustBundle().contains(pending.get().signingCertificate())) {
                // Crashed after saving the next root but before extending the current bundle: finish stage 1.
                CaMaterial now = current.load().orElseThrow();
                CaMaterial extended = new CaMaterial(now.signingKey(), now.signingCertificate(), now.intermediates(),
                        pending.get().trustBundle());
                current.save(extended);
                ca.replaceMaterial(extended);
            }
        }
        if (stage == Stage.NONE && pending.isPresent()) {
            deleteNext();
        }
        if (stage != written) {
            writeStage(stage);
        }
    }

    private Stage readStage() {
        try {
            if (!Files.exists(stageFile)) {
                return Stage.NONE;
            }
            return Stage.valueOf(Files.readString(stageFile, StandardCharsets.US_ASCII).strip().toUpperCase(Locale.ROOT));
        } catch (IOException | IllegalArgumentException e) {
            return Stage.NONE; // re-derived from the stores anyway
        }
    }

    private void writeStage(Stage s) {
        try {
            Path tmp = stageFile.resolveSibling(STAGE_FILE + ".tmp");
            Files.writeString(tmp, s.name().toLowerCase(Locale.ROOT) + "\n", StandardCharsets.US_ASCII);
            Files.move(tmp, stageFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            stage = s;
        } catch (IOException e) {
            throw new CaStoreException("cannot record the root rotation stage in " + stageFile + ": " + e.getMessage());
        }
    }

    private void deleteNext() {
        try (Stream<Path> files = Files.walk(next.directory())) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + next.directory() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "RootRotation[" + stage + ", " + ca.trustBundle() + "]";
    }

}
