package dev.septa.controlplane.findings;

import java.util.Objects;

/**
 * The findings' wiring that outlives one request: the detector's limits and the JSON lines sink, which the
 * composition root chooses ({@code ControlPlaneFactory}: standard output in Kubernetes mode, {@code STATE/findings.jsonl}
 * in local mode) and this closes at shutdown.
 */
public final class FindingsRuntime implements AutoCloseable {
    private final FindingsDetector.Limits limits;
    private final FindingsStore store;
    private volatile FindingsSink sink;

    public FindingsRuntime(FindingsDetector.Limits limits, FindingsStore store) {
        this.limits = Objects.requireNonNull(limits);
        this.store = Objects.requireNonNull(store);
    }

    public FindingsDetector.Limits limits() {
        return limits;
    }

    /** Sends every finding from now on to {@code sink} as well; at most one sink. */
    public synchronized void useSink(FindingsSink sink) {
        if (this.sink != null) {
            throw new IllegalStateException("the findings already go to " + this.sink.description());
        }
        this.sink = Objects.requireNonNull(sink);
        store.addListener(sink);
    }

    public long sinkDropped() {
        FindingsSink s = sink;
        return s == null ? 0 : s.dropped();
    }

    @Override
    public void close() {
        FindingsSink s = sink;
        if (s != null) {
            s.close();
        }
    }
}
