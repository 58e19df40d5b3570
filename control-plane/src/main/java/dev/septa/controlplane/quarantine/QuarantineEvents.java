package dev.septa.controlplane.quarantine;

import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.Quarantine;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the meshes put in force into {@link QuarantineListener} events, by comparing each one's quarantines with the
 * previous one's: this sees quarantines from the API and from Kubernetes CRs alike. A quarantine whose reason or
 * forensics segment changed is reported as released and quarantined again. Thread-safe (events are delivered under its lock, in order).
 */
public final class QuarantineEvents {
    private static final Logger LOG = LoggerFactory.getLogger(QuarantineEvents.class);

    private record Key(String workload, String reason, String allowFrom, String origin) { }

    private final List<QuarantineListener> listeners = new CopyOnWriteArrayList<>();
    private final Clock clock;
    private Set<Key> inForce;

    public QuarantineEvents(Clock clock) {
        this.clock = clock;
    }

    /**
     * Adds a listener. One added after a mesh was applied is first told the quarantines in force as {@code restored}
     * events, so it never misses one whatever the order of wiring.
     */
    public synchronized void add(QuarantineListener listener) {
        listeners.add(listener);
        if (inForce != null) {
            var now = clock.instant();
            for (Key k : inForce) {
                try {
                    listener.quarantined(new QuarantineListener.Event(k.workload(), k.reason(), k.allowFrom(), k.origin(), now, true));
                } catch (RuntimeException e) {
                    LOG.warn("quarantine listener failed: {}", e.toString());
                }
            }
        }
    }

    public synchronized void meshApplied(Mesh mesh) {
        Set<Key> next = mesh.quarantines().stream().map(QuarantineEvents::key).collect(Collectors.toCollection(java.util.LinkedHashSet::new));
        boolean first = inForce == null;
        Set<Key> before = first ? Set.of() : inForce;
        inForce = next;
        var now = clock.instant();
        for (Key k : before) {
            if (!next.contains(k)) {
                LOG.info("quarantine of {} lifted (reason: {})", k.workload(), k.reason());
                notify(false, new QuarantineListener.Event(k.workload(), k.reason(), k.allowFrom(), k.origin(), now, false));
            }
        }
        for (Key k : next) {
            if (!before.contains(k)) {
                LOG.info("quarantine of {} in force (reason: {}, forensics: {})", k.workload(), k.reason(),
                        k.allowFrom() == null ? "none" : k.allowFrom());
                notify(true, new QuarantineListener.Event(k.workload(), k.reason(), k.allowFrom(), k.origin(), now, first));
            }
        }
    }

    private static Key key(Quarantine q) {
        return new Key(q.target(), q.reason(), q.allowFrom() == null ? null : q.allowFrom().toString(), q.source().file());
    }

    private void notify(boolean quarantined, QuarantineListener.Event event) {
        for (QuarantineListener l : listeners) {
            try {
                if (quarantined) {
                    l.quarantined(event);
                } else {
                    l.released(event);
                }
            } catch (RuntimeException e) {
                LOG.warn("quarantine listener failed: {}", e.toString());
            }
        }
    }
}
