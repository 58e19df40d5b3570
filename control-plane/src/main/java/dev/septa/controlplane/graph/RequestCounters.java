package dev.septa.controlplane.graph;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code septa_requests_total{source_namespace,source_workload,destination_namespace,destination_workload,port,verdict,intent}}:
 * one Prometheus counter per observed edge, verdict and deciding intent, so that an operator alerts on denials the
 * way Linkerd users alert on {@code inbound_http_authz_deny_total}.
 *
 * <p>Cardinality is bounded: at most {@code maxSeries} label sets (2,000 by default, {@code septa.metrics.requests.max-series}).
 * Past that (give or take one per receiving thread), calls of a new label set are counted in one overflow series per verdict, whose other labels are all
 * {@value #OVERFLOW} (so a deny alert still fires), and {@code septa_requests_overflow_total} counts them. Series are
 * never removed (a Prometheus counter must not go back), so the bound holds for the life of the process. A caller
 * outside the inventory is labelled by its namespace ({@code (outside)} without one) and its SPIFFE ID or address.
 */
public final class RequestCounters implements ObservationListener {
    public static final String OVERFLOW = "_overflow_";
    public static final int DEFAULT_MAX_SERIES = 2_000;

    private record Key(String srcNs, String src, String dstNs, String dst, int port, Verdict verdict, String intent) {
    }

    private final MeterRegistry registry;
    private final int maxSeries;
    private final ConcurrentHashMap<Key, Counter> series = new ConcurrentHashMap<>();
    private final AtomicInteger size = new AtomicInteger();
    private final Counter overflowCalls;

    public RequestCounters(MeterRegistry registry, int maxSeries) {
        if (maxSeries < 1) {
            throw new IllegalArgumentException("septa.metrics.requests.max-series must be at least 1, got " + maxSeries);
        }
        this.registry = Objects.requireNonNull(registry);
        this.maxSeries = maxSeries;
        this.overflowCalls = Counter.builder("septa.requests.overflow")
                .description("Calls counted in the overflow series of septa_requests_total (its cardinality bound was reached)")
                .register(registry);
        // Registered up front, at zero, so that an alert on the overflow series has something to compare with.
        for (Verdict v : Verdict.values()) {
            counter(overflowKey(v));
        }
    }

    @Override
    public void observed(Observation o, long weight, long atMillis) {
        String intent = o.decidedBy() == null ? "unknown" : o.decidedBy();
        Key key = new Key(o.source().namespace(), o.source().name(),
                o.destination().namespace(), o.destination().name(), o.port(), o.verdict(), intent);
        Counter c = series.get(key);
        if (c == null) {
            if (size.get() >= maxSeries) {
                overflowCalls.increment(weight);
                c = series.get(overflowKey(o.verdict()));
            } else {
                c = series.computeIfAbsent(key, k -> {
                    size.incrementAndGet();
                    return counter(k);
                });
            }
        }
        c.increment(weight);
    }

    /** Label sets held, the overflow series excluded. */
    public int seriesCount() {
        return size.get();
    }

    private static Key overflowKey(Verdict v) {
        return new Key(OVERFLOW, OVERFLOW, OVERFLOW, OVERFLOW, 0, v, OVERFLOW);
    }

    private Counter counter(Key k) {
        Counter c = Counter.builder("septa.requests")
                .description("Calls observed by the traffic graph, per edge, verdict and deciding intent (bounded; see docs/graph.md)")
                .tag("source_namespace", k.srcNs()).tag("source_workload", k.src())
                .tag("destination_namespace", k.dstNs()).tag("destination_workload", k.dst())
                .tag("port", k.port() == 0 ? OVERFLOW : Integer.toString(k.port()))
                .tag("verdict", k.verdict().name()).tag("intent", k.intent())
                .register(registry);
        if (k.srcNs().equals(OVERFLOW)) {
            series.put(k, c);
        }
        return c;
    }
}
