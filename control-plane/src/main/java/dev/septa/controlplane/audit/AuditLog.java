package dev.septa.controlplane.audit;

import dev.septa.controlplane.source.SourceSnapshot;
import dev.septa.identity.KeyedCertificate;
import dev.septa.policy.parse.InputFile;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane's append-only audit trail (docs/audit.md): every policy version applied, every configuration
 * version sent, ACKed or NACKed per proxy, every certificate issued, renewed or refused, every root rotation stage,
 * every quarantine and release, one JSON line each. Writing happens on the {@link AuditWriter}'s thread: no method
 * here blocks on the disk or throws, so the audit never holds up or stops the control plane; when records cannot
 * be written, {@link #problem()} says so (shown by {@code septa status}).
 *
 * <p>In local mode the lines go to {@code STATE/audit/audit.log} (rotated by size, {@link RotatingFileSink}); in
 * Kubernetes mode to standard output. Either way each applied policy version is also kept in
 * {@code STATE/policy-versions} ({@link PolicyVersionStore}) for {@code septa check --at}.
 */
public final class AuditLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);
    public static final String DIR = "audit";
    /** More node ids than this in one policy change are counted, not listed. */
    static final int MAX_AFFECTED_LISTED = 1000;

    /** Record kinds, as written in {@code "kind"}. */
    public static final String POLICY_APPLIED = "policy.applied";
    public static final String XDS_SENT = "xds.sent";
    public static final String XDS_ACK = "xds.ack";
    public static final String XDS_NACK = "xds.nack";
    public static final String CERT_ISSUED = "cert.issued";
    public static final String CERT_RENEWED = "cert.renewed";
    public static final String CERT_REFUSED = "cert.refused";
    public static final String CA_ROTATION = "ca.rotation";
    public static final String QUARANTINE = "quarantine";
    public static final String RELEASE = "release";
    public static final String LOST = "audit.lost";

    private final AuditWriter writer;
    private final PolicyVersionStore versions;
    // Touched only on the publisher thread (policyApplied): what the previous version held, to say what changed.
    private Map<String, String> previousTexts;
    private Map<String, ?> previousProxies;
    private String previousVersion;
    /** The serial of the certificate each node holds, so that the next issuance reads as a renewal. */
    private final Map<String, String> serials = new ConcurrentHashMap<>();
    private volatile String storeProblem;

    AuditLog(AuditSink sink, PolicyVersionStore versions) {
        this.writer = new AuditWriter(sink);
        this.versions = versions;
    }

    /** Local mode: {@code STATE/audit/audit.log}, 10 MiB per file, 10 rotated files kept. */
    public static AuditLog inStateDirectory(Path stateDir) {
        return new AuditLog(new RotatingFileSink(stateDir.resolve(DIR), RotatingFileSink.DEFAULT_MAX_BYTES,
                RotatingFileSink.DEFAULT_KEEP), PolicyVersionStore.in(stateDir));
    }

    /** Kubernetes mode: lines on {@code out}; policy versions still in the state directory. */
    public static AuditLog toStream(PrintStream out, String name, Path stateDir) {
        return new AuditLog(AuditSink.stream(out, name), PolicyVersionStore.in(stateDir));
    }

    /** Any sink and store (tests: a small rotation size; a store with other bounds; null keeps no versions). */
    public static AuditLog of(AuditSink sink, PolicyVersionStore versions) {
        return new AuditLog(sink, versions);
    }

    // ---- policy -------------------------------------------------------------------------------------------------

    /**
     * A policy version is about to be put in force (the publisher thread, before any proxy is sent it).
     * {@code provenance}: per input name, what the source knows of who changed it ({@code MeshSource#provenance}).
     * {@code configurations}: per node, a value equal to the previous version's exactly when the node's compiled
     * configuration did not change (the compiler's {@code CompiledProxy#configurationIdentity}, which needs no
     * emission); the nodes whose value changed, appeared or went are the version's "affected".
     */
    public void policyApplied(SourceSnapshot input, Map<String, ?> configurations,
                              Function<String, Map<String, String>> provenance) {
        try {
            Instant at = Instant.now();
            Map<String, String> texts = new HashMap<>();
            input.files().forEach(f -> texts.put(f.name(), f.text()));
            boolean first = previousTexts == null;
            // Changed inputs: compared by text here (cheap: unchanged objects are the same strings), hashed on the writer.
            List<String[]> changed = new ArrayList<>(); // name, change
            for (Map.Entry<String, String> e : new TreeMap<>(texts).entrySet()) {
                String before = first ? null : previousTexts.get(e.getKey());
                if (before == null) {
                    changed.add(new String[] {e.getKey(), first ? "present" : "added"});
                } else if (!before.equals(e.getValue())) {
                    changed.add(new String[] {e.getKey(), "modified"});
                }
            }
            if (!first) {
                new TreeSet<>(previousTexts.keySet()).stream().filter(n -> !texts.containsKey(n))
                        .forEach(n -> changed.add(new String[] {n, "removed"}));
            }
            TreeSet<String> affected = new TreeSet<>();
            configurations.forEach((node, key) -> {
                if (first || !key.equals(previousProxies.get(node))) {
                    affected.add(node);
                }
            });
            if (!first) {
                previousProxies.keySet().stream().filter(n -> !configurations.containsKey(n)).forEach(affected::add);
            }
            Map<String, Map<String, String>> origin = new HashMap<>();
            for (String[] c : changed) {
                Map<String, String> p = provenance.apply(c[0]);
                if (p != null && !p.isEmpty()) {
                    origin.put(c[0], p);
                }
            }
            String previous = previousVersion;
            previousTexts = texts;
            previousProxies = configurations;
            previousVersion = input.contentHash();
            List<InputFile> files = input.files();
            writer.submit(sink -> {
                String before = previous;
                if (before == null && versions != null) {
                    List<PolicyVersionStore.Entry> index = versions.readIndex();
                    before = index.isEmpty() ? null : index.getLast().version();
                }
                AuditRecord record = AuditRecord.at(at, POLICY_APPLIED).put("version", input.contentHash())
                        .put("previous", before).put("start", first ? true : null).put("inputs", files.size());
                List<AuditRecord> changes = new ArrayList<>();
                for (String[] c : changed) {
                    changes.add(describeInput(c[0], c[1], texts.get(c[0]), origin.get(c[0])));
                }
                record.put("changed", changes);
                record.put("affected", affected.size() <= MAX_AFFECTED_LISTED ? List.copyOf(affected)
                        : List.copyOf(affected).subList(0, MAX_AFFECTED_LISTED));
                record.put("affectedCount", affected.size());
                keep(at, input.contentHash(), files, record);
                sink.append(record.line());
            });
        } catch (RuntimeException e) {
            LOG.warn("audit: could not record policy version {}: {}", input.contentHash(), e.toString());
        }
    }

    /**
     * Keeps the version for {@code septa check --at}, whether or not the audit file can be written (they may fail
     * apart); a failure is in the record ({@code "kept": false}) and in {@link #problem()} until a version is kept.
     */
    private void keep(Instant at, String version, List<InputFile> files, AuditRecord record) {
        if (versions == null) {
            return;
        }
        try {
            versions.applied(at, version, files);
            storeProblem = null;
        } catch (IOException | RuntimeException e) {
            String error = "cannot keep policy version " + version + " in " + versions.directory() + ": " + AuditWriter.describe(e);
            if (storeProblem == null) {
                LOG.error("audit: {}; septa check --at cannot answer for the time it is in force", error);
            }
            storeProblem = error;
            record.put("kept", false).put("keepError", error);
        }
    }

    /** A changed input: a local file ({@code path}) or a Kubernetes object ({@code kind}, {@code namespace}, {@code name}). */
    private static AuditRecord describeInput(String name, String change, String text, Map<String, String> origin) {
        AuditRecord r = AuditRecord.nested();
        if (name.startsWith("k8s:")) {
            String[] parts = name.substring(4).split("/", 3); // k8s:NS/KIND/NAME (KubernetesObjectRenderer.fileName)
            if (parts.length == 3) {
                r.put("kind", parts[1]).put("namespace", parts[0]).put("name", parts[2]);
            } else {
                r.put("object", name);
            }
        } else {
            r.put("path", name);
        }
        r.put("change", change).put("sha256", text == null ? null : sha256(text));
        if (origin != null) {
            origin.forEach(r::put);
        }
        return r;
    }

    static String sha256(String text) {
        try {
            return java.util.HexFormat.of().formatHex(
                    MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- xDS ----------------------------------------------------------------------------------------------------

    /** A configuration or secret version sent to, ACKed or NACKed by a node (deduplicated by the cache). */
    public void xds(String nodeId, String typeUrl, String version, String configVersion, String outcome, String error) {
        String kind = switch (outcome) {
            case "SENT" -> XDS_SENT;
            case "ACKED" -> XDS_ACK;
            default -> XDS_NACK;
        };
        int dot = typeUrl.lastIndexOf('.');
        writer.record(AuditRecord.of(kind).put("node", nodeId).put("type", dot < 0 ? typeUrl : typeUrl.substring(dot + 1))
                .put("version", version).put("config", configVersion).put("error", error));
    }

    // ---- certificates -------------------------------------------------------------------------------------------

    /** A workload certificate was issued: a renewal when the node held one from this control plane before. Never the key. */
    public void certificateIssued(String nodeId, KeyedCertificate certificate) {
        try {
            X509Certificate leaf = certificate.certificateChain()[0];
            String serial = leaf.getSerialNumber().toString(16);
            String before = serials.put(nodeId, serial);
            writer.record(AuditRecord.of(before == null ? CERT_ISSUED : CERT_RENEWED).put("node", nodeId)
                    .put("spiffeId", certificate.spiffeId()).put("serial", serial).put("previousSerial", before)
                    .put("notBefore", certificate.notBefore()).put("notAfter", certificate.notAfter())
                    .put("issuer", leaf.getIssuerX500Principal().getName()));
        } catch (RuntimeException e) {
            LOG.warn("audit: could not record the certificate of {}: {}", nodeId, e.toString());
        }
    }

    /** The CA refused (or failed) to issue a node's certificate; the node keeps its old one while it lasts. */
    public void certificateRefused(String nodeId, String spiffeId, String error, int attempt, Instant retryAt) {
        writer.record(AuditRecord.of(CERT_REFUSED).put("node", nodeId).put("spiffeId", spiffeId).put("error", error)
                .put("attempt", attempt).put("retryAt", retryAt));
    }

    // ---- root rotation ------------------------------------------------------------------------------------------

    /** A root rotation stage was entered (the control plane reports each change of stage, signer or roots). */
    public void rotationStage(String stage, String signer, List<String> roots, String error) {
        writer.record(AuditRecord.of(CA_ROTATION).put("stage", stage).put("signer", signer).put("roots", roots)
                .put("error", error));
    }

    // ---- quarantine ---------------------------------------------------------------------------------------------

    /**
     * A workload was quarantined ({@code septa quarantine}, the API or a Quarantine CR): {@code workload} NS/NAME,
     * the operator's {@code reason}, the forensics segment allowed to reach it (null: none), and who asked
     * ({@code actor}: "cli", "api", a CR's field manager; null if unknown).
     */
    public void quarantined(String workload, String reason, String allowFrom, String actor) {
        writer.record(AuditRecord.of(QUARANTINE).put("workload", workload).put("reason", reason)
                .put("allowFrom", allowFrom).put("actor", actor));
    }

    /** A quarantine was lifted ({@code septa quarantine --release}). */
    public void released(String workload, String actor) {
        writer.record(AuditRecord.of(RELEASE).put("workload", workload).put("actor", actor));
    }

    // ---- state --------------------------------------------------------------------------------------------------

    /** Why records are being lost, for {@code septa status}; empty while the log is written. */
    public Optional<String> problem() {
        Optional<String> writing = writer.problem();
        String store = storeProblem;
        if (store == null) {
            return writing;
        }
        return Optional.of(writing.map(w -> w + "; ").orElse("audit log: ") + store);
    }

    /** Waits until what was recorded so far is written (tests; an orderly shutdown). */
    public boolean awaitWritten(Duration timeout) {
        return writer.awaitIdle(timeout);
    }

    @Override
    public void close() {
        writer.close();
    }

    @Override
    public String toString() {
        return "AuditLog[" + Objects.toString(versions == null ? null : versions.directory()) + "]";
    }
}
