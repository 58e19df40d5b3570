package dev.septa.controlplane.certs;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Nodes ordered by the instant the renewal loop next has something to do for them (a renewal, a retry, dropping a
 * certificate of a node that went away). A tick takes only what is due, so its cost follows what is due, not the
 * size of the fleet: at 10,000 nodes and one tick every 200 ms, a scan of every node per tick was the largest CPU
 * consumer of an idle control plane. At most one entry per node; scheduling a node again moves it.
 * Not thread-safe: used on the issuer's single issuing thread only.
 */
final class RenewalQueue {
    private record Entry(Instant due, String nodeId) {}

    private static final Comparator<Entry> ORDER = Comparator.comparing(Entry::due).thenComparing(Entry::nodeId);
    private final TreeSet<Entry> byDue = new TreeSet<>(ORDER);
    private final Map<String, Entry> byNode = new HashMap<>();

    /** The node's next action is at {@code due} (replacing any earlier entry of the node). */
    void schedule(String nodeId, Instant due) {
        Entry before = byNode.put(nodeId, new Entry(due, nodeId));
        if (before != null) {
            byDue.remove(before);
        }
        byDue.add(byNode.get(nodeId));
    }

    void remove(String nodeId) {
        Entry before = byNode.remove(nodeId);
        if (before != null) {
            byDue.remove(before);
        }
    }

    boolean contains(String nodeId) {
        return byNode.containsKey(nodeId);
    }

    /** Takes out every node due at {@code now} or before, earliest first. */
    List<String> takeDue(Instant now) {
        List<String> due = new ArrayList<>();
        while (!byDue.isEmpty() && !byDue.first().due().isAfter(now)) {
            Entry first = byDue.pollFirst();
            byNode.remove(first.nodeId());
            due.add(first.nodeId());
        }
        return due;
    }

    /** The earliest instant anything is due, or null when nothing is queued. */
    Instant next() {
        return byDue.isEmpty() ? null : byDue.first().due();
    }

    int size() {
        return byNode.size();
    }
}
