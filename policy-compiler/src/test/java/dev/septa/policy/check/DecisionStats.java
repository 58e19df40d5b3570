package dev.septa.policy.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the kinds of decisions a property test saw, so it can insist that every kind occurred often: a
 * generator that only ever produced "DENY default" would pass any comparison and prove nothing.
 */
public final class DecisionStats {
    private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();

    public void add(Decision d) {
        String kind = d.verdict() + (d.by().equals(Decision.DEFAULT) ? " default" : " by intent");
        counts.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
        counts.computeIfAbsent("total", k -> new AtomicLong()).incrementAndGet();
        if (d.wouldDenyBy().isPresent()) {
            counts.computeIfAbsent("wouldDenyBy", k -> new AtomicLong()).incrementAndGet();
        }
    }

    public long get(String kind) {
        AtomicLong c = counts.get(kind);
        return c == null ? 0 : c.get();
    }

    /** Every kind at least {@code min} times, and {@code total} queries in all. */
    public void assertVaried(long total, long min) {
        var snapshot = new TreeMap<String, Long>();
        counts.forEach((k, v) -> snapshot.put(k, v.get()));
        System.out.println("decisions seen: " + snapshot);
        assertThat(get("total")).as("queries checked %s", snapshot).isGreaterThanOrEqualTo(total);
        for (String kind : new String[] {"ALLOW by intent", "ALLOW default", "DENY by intent", "DENY default",
                "wouldDenyBy"}) {
            assertThat(get(kind)).as("'%s' decisions among %s", kind, snapshot).isGreaterThanOrEqualTo(min);
        }
    }
}
