package dev.septa.controlplane.findings;

import dev.septa.controlplane.graph.Observation;
import dev.septa.controlplane.graph.ObservationListener;
import dev.septa.controlplane.graph.Verdict;
import dev.septa.policy.model.MeshConfig;

import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Turns observed calls into findings ({@link FindingKind}), with the thresholds of {@code MeshConfig.spec.detection}
 * in force ({@link #configure}, on every applied compile). Memory is bounded whatever the traffic:
 * <ul>
 * <li>probing: one sliding count (12 buckets over {@code probeWindow}) and up to 16 destinations per source with recent
 *     denied calls, at most
 *     {@code maxSources} (10,000); past that, idle sources are dropped, and a denied call from one more source is not
 *     counted ({@link Status#untrackedDenials}); a source with a PROBING finding needs no count;</li>
 * <li>new behaviour: the (source, destination, port) triples of allowed calls seen during the learning window, at most
 *     {@code maxKnownEdges} (50,000); a learning window that sees more turns NEW_EDGE detection off ({@link Status}),
 *     since an edge not remembered would later be reported as new;</li>
 * <li>findings: {@link FindingsStore}.</li>
 * </ul>
 * The learning window runs from the first call observed after the control plane's start (a control plane that waits
 * for its workloads must not end its learning with nothing learned); a restart learns again (docs/incident-response.md). One lock; the work per call is a few map lookups.
 */
public final class FindingsDetector implements ObservationListener {

    /** Memory bounds (docs/incident-response.md). */
    public record Limits(int maxSources, int maxKnownEdges) {
        public static final Limits DEFAULT = new Limits(10_000, 50_000);

        public Limits {
            if (maxSources < 1 || maxKnownEdges < 1) {
                throw new IllegalArgumentException("septa.findings.max-sources and max-known-edges must be at least 1");
            }
        }
    }

    /** What the detector is doing, for {@code /api/findings}. */
    public record Status(MeshConfig.Detection detection, Instant learningEndsAt, boolean learning, boolean newEdgeDetection,
                         int trackedSources, int knownEdges, long untrackedDenials) {
    }

    private record EdgeKey(String source, String destination, int port) {
    }

    private static final int PROBE_BUCKETS = 12;

    private final FindingsStore store;
    private final Limits limits;
    private long learningStartMillis = -1;
    private MeshConfig.Detection detection;
    /** A source's recent denied calls, and the first few distinct destinations they went to (for the finding). */
    private record Probe(SlidingCount count, java.util.LinkedHashSet<String> targets) {
    }

    private final Map<String, Probe> probes = new HashMap<>();
    private final Set<EdgeKey> known = new HashSet<>();
    private boolean newEdgeOff;
    private long untrackedDenials;
    private long lastSweepEpoch = Long.MIN_VALUE;

    public FindingsDetector(FindingsStore store, Limits limits, MeshConfig.Detection detection) {
        this.store = Objects.requireNonNull(store);
        this.limits = Objects.requireNonNull(limits);
        this.detection = Objects.requireNonNull(detection);
    }

    /** The thresholds of the mesh in force; a changed probe window or threshold restarts the probe counts. */
    public synchronized void configure(MeshConfig.Detection d) {
        Objects.requireNonNull(d);
        if (!d.probeWindow().equals(detection.probeWindow()) || d.probeThreshold() != detection.probeThreshold()) {
            probes.clear();
        }
        detection = d;
    }

    @Override
    public synchronized void observed(Observation o, long weight, long at) {
        if (learningStartMillis < 0) {
            learningStartMillis = at;
        }
        if (o.verdict() == Verdict.DENY) {
            probing(o, weight, at);
            return;
        }
        if (o.wouldDenyBy() != null) {
            String id = FindingKind.WOULD_DENY + " " + o.source().id() + " -> " + o.destination().id() + ":" + o.port()
                    + " " + o.wouldDenyBy();
            if (!store.touch(id, o, weight, at)) {
                store.raise(id, FindingKind.WOULD_DENY, o, o.wouldDenyBy(), weight, at, at, List.of());
            }
        }
        newEdge(o, weight, at);
    }

    private void probing(Observation o, long weight, long at) {
        String source = o.source().id();
        String id = FindingKind.PROBING + " " + source;
        if (store.touch(id, o, weight, at)) {
            return;
        }
        long window = detection.probeWindow().toMillis();
        long bucket = Math.max(1, window / PROBE_BUCKETS);
        Probe probe = probes.get(source);
        if (probe == null) {
            if (probes.size() >= limits.maxSources()) {
                sweep(at, bucket, window);
            }
            if (probes.size() >= limits.maxSources()) {
                untrackedDenials += weight;
                return;
            }
            probe = new Probe(new SlidingCount(PROBE_BUCKETS + 1, bucket), new java.util.LinkedHashSet<>());
            probes.put(source, probe);
        }
        if (probe.count().sum(at, window) == 0) {
            probe.targets().clear(); // nothing left in the window: forget where its older calls went
        }
        probe.count().add(at, weight);
        if (probe.targets().size() < FindingsStore.MAX_TARGETS) {
            probe.targets().add(o.destination().id() + ":" + o.port());
        }
        long inWindow = probe.count().sum(at, window);
        if (inWindow > detection.probeThreshold()) {
            store.raise(id, FindingKind.PROBING, o, o.decidedBy(), inWindow, probe.count().firstInWindow(at, window), at,
                    probe.targets());
            probes.remove(source);
        }
    }

    /** Drops sources with nothing in the window; at most once per bucket, so a flood of sources costs no scan per call. */
    private void sweep(long at, long bucket, long window) {
        long epoch = Math.floorDiv(at, bucket);
        if (epoch == lastSweepEpoch) {
            return;
        }
        lastSweepEpoch = epoch;
        for (Iterator<Probe> it = probes.values().iterator(); it.hasNext(); ) {
            if (it.next().count().sum(at, window) == 0) {
                it.remove();
            }
        }
    }

    private void newEdge(Observation o, long weight, long at) {
        EdgeKey key = new EdgeKey(o.source().id(), o.destination().id(), o.port());
        String id = FindingKind.NEW_EDGE + " " + key.source() + " -> " + key.destination() + ":" + key.port();
        if (newEdgeOff || store.touch(id, o, weight, at) || known.contains(key)) {
            return;
        }
        boolean learning = at < learningEndsAt();
        if (known.size() < limits.maxKnownEdges()) {
            known.add(key);
        } else if (learning) {
            newEdgeOff = true; // an edge we cannot remember would be reported as new once learning ends
            return;
        }
        if (!learning) {
            store.raise(id, FindingKind.NEW_EDGE, o, o.decidedBy(), weight, at, at, List.of());
        }
    }

    private long learningEndsAt() {
        return learningStartMillis + detection.learningWindow().toMillis();
    }

    /** @param nowMillis the moment asked about; {@link Status#learningEndsAt} is null until the first call */
    public synchronized Status status(long nowMillis) {
        boolean started = learningStartMillis >= 0;
        return new Status(detection, started ? Instant.ofEpochMilli(learningEndsAt()) : null,
                !started || nowMillis < learningEndsAt(), !newEdgeOff, probes.size(), known.size(), untrackedDenials);
    }

    public FindingsStore store() {
        return store;
    }
}
