package dev.septa.controlplane.findings;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.EnumMap;
import java.util.Map;

/**
 * {@code septa_findings_total{kind}} (raised, one series per kind, registered at zero), {@code septa_findings_evicted_total}
 * and {@code septa_findings_active}: alert on {@code increase(septa_findings_total{kind="PROBING"}[5m]) > 0}.
 */
public final class FindingsMetrics implements FindingsStore.Listener {
    private final Map<FindingKind, Counter> raised = new EnumMap<>(FindingKind.class);
    private final Counter evicted;

    public FindingsMetrics(MeterRegistry registry, FindingsStore store) {
        for (FindingKind k : FindingKind.values()) {
            raised.put(k, Counter.builder("septa.findings").description("Findings raised from observed traffic, by kind")
                    .tag("kind", k.name()).register(registry));
        }
        evicted = Counter.builder("septa.findings.evicted")
                .description("Findings evicted at the store's bound (the oldest-updated first)").register(registry);
        Gauge.builder("septa.findings.active", store, FindingsStore::size)
                .description("Findings held (at most septa.findings.max)").register(registry);
    }

    @Override
    public void raised(Finding f) {
        raised.get(f.kind()).increment();
    }

    @Override
    public void evicted(Finding f) {
        evicted.increment();
    }
}
