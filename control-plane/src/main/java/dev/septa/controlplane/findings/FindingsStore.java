package dev.septa.controlplane.findings;

import dev.septa.controlplane.graph.Observation;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The findings raised so far, deduplicated by id and bounded: at most {@code maxFindings} (1,000 by default,
 * {@code septa.findings.max}); past that, the finding updated longest ago is evicted (counted, and its listeners told),
 * so a flood of new findings keeps the newest. A finding holds at most 8 sample requests and 16 targets, each string
 * bounded by the receiver (512 characters; paths over 256 are not kept), so memory is bounded by {@code maxFindings}.
 * Listeners hear of each finding when raised, then at most once a second while it is updated. Thread-safe
 * (one lock: findings are rare next to calls, and the detector calls in already holding its own).
 */
public final class FindingsStore {
    static final int MAX_SAMPLES = 8;
    static final int MAX_TARGETS = 16;
    static final int MAX_SAMPLE_PATH = 256;
    private static final long UPDATE_EVERY_MILLIS = 1_000;

    /** Told of findings; called under the store's lock, so it must be quick and must not call back into the store. */
    public interface Listener {
        void raised(Finding f);

        default void updated(Finding f) {
        }

        default void evicted(Finding f) {
        }
    }

    private static final class State {
        final String id;
        final FindingKind kind;
        final String source;
        final String destination;
        final int port;
        final String intent;
        final Set<String> samples = new LinkedHashSet<>();
        final Set<String> targets = new LinkedHashSet<>();
        final long firstSeen;
        long lastSeen;
        long count;
        long lastPublished;

        State(String id, FindingKind kind, Observation o, String intent, long firstSeen) {
            this.id = id;
            this.kind = kind;
            this.source = o.source().id();
            this.destination = o.destination().id();
            this.port = o.port();
            this.intent = intent;
            this.firstSeen = firstSeen;
        }

        void add(Observation o, long weight, long at) {
            count += weight;
            lastSeen = Math.max(lastSeen, at);
            if (samples.size() < MAX_SAMPLES && o.method() != null && o.path() != null && o.path().length() <= MAX_SAMPLE_PATH) {
                samples.add(o.method() + " " + o.path());
            }
            if (targets.size() < MAX_TARGETS) {
                targets.add(o.destination().id() + ":" + o.port());
            }
        }

        Finding view() {
            return new Finding(id, kind, source, destination, port, intent, List.copyOf(samples), List.copyOf(targets),
                    Instant.ofEpochMilli(firstSeen).toString(), Instant.ofEpochMilli(lastSeen).toString(), count);
        }
    }

    private final int maxFindings;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private long evicted;
    private final Map<FindingKind, Long> raisedByKind = new java.util.EnumMap<>(FindingKind.class);
    private final Map<String, State> findings;

    public FindingsStore(int maxFindings) {
        if (maxFindings < 1) {
            throw new IllegalArgumentException("septa.findings.max must be at least 1, got " + maxFindings);
        }
        this.maxFindings = maxFindings;
        // Access order: an update moves a finding to the young end, so the eldest is the one updated longest ago.
        this.findings = new LinkedHashMap<>(16, 0.75f, true);
    }

    public void addListener(Listener l) {
        listeners.add(Objects.requireNonNull(l));
    }

    public int maxFindings() {
        return maxFindings;
    }

    /** Counts {@code weight} more calls into the finding {@code id}; false when there is no such finding. */
    synchronized boolean touch(String id, Observation o, long weight, long at) {
        State s = findings.get(id);
        if (s == null) {
            return false;
        }
        s.add(o, weight, at);
        if (at - s.lastPublished >= UPDATE_EVERY_MILLIS) {
            s.lastPublished = at;
            Finding view = s.view();
            listeners.forEach(l -> l.updated(view));
        }
        return true;
    }

    /** Raises a new finding of {@code count} calls, the last of them {@code o} at {@code at}, with the targets seen before. */
    synchronized void raise(String id, FindingKind kind, Observation o, String intent, long count, long firstSeen, long at,
                            java.util.Collection<String> earlierTargets) {
        State s = new State(id, kind, o, intent, firstSeen);
        earlierTargets.stream().limit(MAX_TARGETS).forEach(s.targets::add);
        s.add(o, count, at);
        s.lastPublished = at;
        findings.put(id, s);
        raisedByKind.merge(kind, 1L, Long::sum);
        Finding view = s.view();
        listeners.forEach(l -> l.raised(view));
        while (findings.size() > maxFindings) {
            var eldest = findings.entrySet().iterator().next();
            findings.remove(eldest.getKey());
            evicted++;
            Finding gone = eldest.getValue().view();
            listeners.forEach(l -> l.evicted(gone));
        }
    }

    synchronized boolean contains(String id) {
        return findings.containsKey(id);
    }

    /** Every finding, most recently seen first. */
    public synchronized List<Finding> list() {
        List<Finding> out = new ArrayList<>(findings.size());
        for (State s : findings.values()) {
            out.add(s.view());
        }
        out.sort(Comparator.comparing(Finding::lastSeen).reversed().thenComparing(Finding::id));
        return out;
    }

    public synchronized int size() {
        return findings.size();
    }

    /** Findings raised since start, by kind (every kind present). */
    public synchronized Map<String, Long> raisedByKind() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (FindingKind k : FindingKind.values()) {
            out.put(k.name(), raisedByKind.getOrDefault(k, 0L));
        }
        return out;
    }

    public synchronized long evicted() {
        return evicted;
    }
}
