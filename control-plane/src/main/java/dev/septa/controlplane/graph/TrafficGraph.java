package dev.septa.controlplane.graph;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Observed calls aggregated into edges over a sliding window (default 15 minutes). Never a list of raw
 * entries: each edge (source, destination, port, verdict, deciding policy, would-deny policy) holds a fixed
 * ring of per-bucket counts, and the number of edges is capped; observations for a new edge beyond the cap are
 * dropped and counted. Edges with nothing in the window are evicted. Thread-safe; {@link #record} is a map
 * lookup plus a per-edge synchronized add.
 */
public final class TrafficGraph {

    /** Window length, number of buckets it is cut into, most distinct edges kept, span the rate is measured over. */
    public record Settings(Duration window, int buckets, int maxEdges, Duration rateSpan) {
        public Settings {
            if (window.isNegative() || window.isZero() || buckets < 1 || maxEdges < 1 || rateSpan.isZero()) {
                throw new IllegalArgumentException("window, buckets, maxEdges and rateSpan must be positive");
            }
            if (window.toMillis() / buckets < 1) {
                throw new IllegalArgumentException("buckets shorter than a millisecond");
            }
        }

        public static Settings defaults() {
            return new Settings(Duration.ofMinutes(15), 90, 10_000, Duration.ofMinutes(1));
        }
    }

    /** The identity of an edge: calls are counted together when all of these agree. */
    record EdgeKey(String source, String destination, int port, Verdict verdict, String decidedBy, String wouldDenyBy) {
    }

    private record EdgeState(WorkloadRef source, WorkloadRef destination, WindowCounter counter, RequestSamples samples) {
    }

    /**
     * One edge as the page and the API show it. {@code requests} counts the whole window; {@code samples} are the
     * first few distinct requests ({@code METHOD /path}) seen on it, empty for TCP.
     */
    public record Edge(WorkloadRef source, WorkloadRef destination, int port, Verdict verdict, String decidedBy,
                       String wouldDenyBy, long requests, double ratePerSecond, Instant lastSeen, List<String> samples) {
        public Edge {
            samples = samples == null ? List.of() : List.copyOf(samples);
        }

        public Edge(WorkloadRef source, WorkloadRef destination, int port, Verdict verdict, String decidedBy,
                    String wouldDenyBy, long requests, double ratePerSecond, Instant lastSeen) {
            this(source, destination, port, verdict, decidedBy, wouldDenyBy, requests, ratePerSecond, lastSeen, List.of());
        }

        public String id() {
            return source.id() + "->" + destination.id() + ":" + port + "/" + verdict
                    + (decidedBy == null ? "" : "/" + decidedBy) + (wouldDenyBy == null ? "" : "/~" + wouldDenyBy);
        }
    }

    /** Every live edge, ordered by id, with the counters at the same moment. */
    public record Snapshot(Instant at, Duration window, long version, List<Edge> edges, GraphCounters.Snapshot counters) {
    }

    private final Settings settings;
    private final InstantSource clock;
    private final long bucketMillis;
    private final Map<EdgeKey, EdgeState> edges = new ConcurrentHashMap<>();
    private final GraphCounters counters;
    private final AtomicLong version = new AtomicLong();
    private final AtomicLong lastEvictionEpoch = new AtomicLong(Long.MIN_VALUE);
    private final java.util.List<ObservationListener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    public TrafficGraph(Settings settings, InstantSource clock, GraphCounters counters) {
        this.settings = Objects.requireNonNull(settings);
        this.clock = Objects.requireNonNull(clock);
        this.counters = Objects.requireNonNull(counters);
        this.bucketMillis = settings.window().toMillis() / settings.buckets();
    }

    public TrafficGraph() {
        this(Settings.defaults(), InstantSource.system(), new GraphCounters());
    }

    public GraphCounters counters() {
        return counters;
    }

    public Settings settings() {
        return settings;
    }

    /** Adds a listener told of every recorded call (findings, request counters), even those the edge cap drops. */
    public void addListener(ObservationListener listener) {
        listeners.add(Objects.requireNonNull(listener));
    }

    /** Counts one call. */
    public void record(Observation o) {
        record(o, 1);
    }

    /** Counts {@code weight} calls that share everything in {@code o} (a sampled entry stands for several). */
    public void record(Observation o, long weight) {
        if (weight <= 0) {
            return;
        }
        long now = clock.millis();
        for (ObservationListener l : listeners) {
            l.observed(o, weight, now);
        }
        EdgeKey key = new EdgeKey(o.source().id(), o.destination().id(), o.port(), o.verdict(), o.decidedBy(), o.wouldDenyBy());
        EdgeState state = edges.get(key);
        if (state == null) {
            if (edges.size() >= settings.maxEdges()) {
                evictIdle(now);
                if (edges.size() >= settings.maxEdges()) {
                    counters.droppedEdgeCap.add(weight);
                    return;
                }
            }
            state = edges.computeIfAbsent(key, k -> new EdgeState(o.source(), o.destination(),
                    new WindowCounter(settings.buckets(), bucketMillis), new RequestSamples()));
        }
        state.counter().add(now, weight);
        state.samples().add(o.method(), o.path());
        counters.recorded.add(weight);
        version.incrementAndGet();
    }

    /** Changes with every recorded call; lets the event stream skip pushes when nothing happened. */
    public long version() {
        return version.get();
    }

    public int edgeCount() {
        return edges.size();
    }

    public Snapshot snapshot() {
        long now = clock.millis();
        evictIdle(now);
        long windowMillis = settings.window().toMillis();
        long rateMillis = Math.min(settings.rateSpan().toMillis(), windowMillis);
        List<Edge> out = new ArrayList<>(edges.size());
        for (Map.Entry<EdgeKey, EdgeState> e : edges.entrySet()) {
            EdgeKey k = e.getKey();
            WindowCounter c = e.getValue().counter();
            long requests = c.sum(now, windowMillis);
            if (requests == 0) {
                continue;
            }
            out.add(new Edge(e.getValue().source(), e.getValue().destination(), k.port(), k.verdict(), k.decidedBy(),
                    k.wouldDenyBy(), requests, c.rate(now, rateMillis), Instant.ofEpochMilli(c.lastSeenMillis()),
                    e.getValue().samples().list()));
        }
        out.sort(Comparator.comparing(Edge::id));
        return new Snapshot(Instant.ofEpochMilli(now), settings.window(), version.get(), List.copyOf(out), counters.snapshot());
    }

    /**
     * Drops edges with nothing left in the window. At most once per bucket: under a flood of distinct edges at
     * the cap, a scan per observation would cost more than the flood itself.
     */
    private void evictIdle(long now) {
        long epoch = Math.floorDiv(now, bucketMillis);
        long last = lastEvictionEpoch.get();
        if (last == epoch || !lastEvictionEpoch.compareAndSet(last, epoch)) {
            return;
        }
        long windowMillis = settings.window().toMillis();
        edges.entrySet().removeIf(e -> {
            boolean idle = e.getValue().counter().sum(now, windowMillis) == 0;
            if (idle) {
                counters.evictedEdges.increment();
            }
            return idle;
        });
    }
}
