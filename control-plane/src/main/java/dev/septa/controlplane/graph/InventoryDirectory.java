package dev.septa.controlplane.graph;

import dev.septa.identity.SpiffeId;
import dev.septa.policy.model.Workload;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * A {@link WorkloadDirectory} over the inventory the control plane serves, swapped whole on every inventory or
 * policy change ({@link #update}), read lock-free. A source is found by its SPIFFE ID
 * ({@code spiffe://<td>/ns/<ns>/sa/<serviceAccount>}) and, when several workloads share that identity, by address;
 * if the address does not settle it, the alphabetically first of them stands in (shared identities are
 * indistinguishable to RBAC too, and the compiler warns about them).
 */
public final class InventoryDirectory implements WorkloadDirectory {

    private record Index(Map<String, WorkloadRef> byId, Map<String, List<WorkloadRef>> byIdentity,
                         Map<String, WorkloadRef> byAddress, Map<String, String> addressOf, List<WorkloadRef> all) {
    }

    /** Node id to quarantine reason, of the mesh in force (the first reason when a workload has several). */
    private volatile Map<String, String> quarantines = Map.of();

    private final AtomicReference<Index> index = new AtomicReference<>(new Index(Map.of(), Map.of(), Map.of(), Map.of(), List.of()));

    /**
     * @param segmentOf the segment the page groups a workload under (e.g. the first, alphabetically, of the
     *                  segments whose selector matches it), or null
     */
    public void update(String trustDomain, Collection<Workload> workloads, Function<Workload, String> segmentOf) {
        Map<String, WorkloadRef> byId = new HashMap<>();
        Map<String, List<WorkloadRef>> byIdentity = new HashMap<>();
        Map<String, WorkloadRef> byAddress = new HashMap<>();
        Map<String, String> addresses = new HashMap<>();
        workloads.stream().sorted(java.util.Comparator.comparing(Workload::id)).forEach(w -> {
            WorkloadRef ref = WorkloadRef.workload(w.metadata().namespace(), w.metadata().name(), segmentOf.apply(w));
            byId.put(ref.id(), ref);
            String spiffe = SpiffeId.uri(trustDomain, w.metadata().namespace(),
                    w.serviceAccount() == null || w.serviceAccount().isEmpty() ? "default" : w.serviceAccount());
            byIdentity.computeIfAbsent(spiffe, k -> new java.util.ArrayList<>()).add(ref);
            if (w.address() != null && !w.address().isEmpty()) {
                byAddress.putIfAbsent(w.address(), ref);
                addresses.put(ref.id(), w.address());
            }
        });
        byIdentity.replaceAll((k, v) -> List.copyOf(v));
        List<WorkloadRef> all = byId.values().stream().sorted(java.util.Comparator.comparing(WorkloadRef::id)).toList();
        index.set(new Index(Map.copyOf(byId), Map.copyOf(byIdentity), Map.copyOf(byAddress), Map.copyOf(addresses), all));
    }

    /**
     * The workloads of a mesh, each drawn in the most specific segment of its namespace that selects it: the one
     * selecting the fewest workloads (a catch-all segment would otherwise swallow every group), then by name.
     * Runs on the publisher thread after every applied change, so it stays near-linear: each segment is matched
     * only against its namespace's workloads that carry the rarest of its matchLabels.
     */
    public void update(dev.septa.policy.model.Mesh mesh) {
        Map<String, String> quarantined = new java.util.TreeMap<>();
        mesh.quarantines().stream().sorted(java.util.Comparator.comparing(dev.septa.policy.model.Quarantine::qualifiedName))
                .forEach(q -> quarantined.putIfAbsent(q.target(), q.reason()));
        quarantines = Map.copyOf(quarantined);
        Map<String, List<Workload>> byNamespace = new HashMap<>();
        Map<String, Map<String, List<Workload>>> byLabel = new HashMap<>();
        for (Workload w : mesh.workloads()) {
            byNamespace.computeIfAbsent(w.metadata().namespace(), k -> new java.util.ArrayList<>()).add(w);
            Map<String, List<Workload>> index = byLabel.computeIfAbsent(w.metadata().namespace(), k -> new HashMap<>());
            if (w.metadata().labels() != null) {
                w.metadata().labels().forEach((k, v) -> index.computeIfAbsent(k + "=" + v, x -> new java.util.ArrayList<>()).add(w));
            }
        }
        Map<Workload, dev.septa.policy.model.Segment> best = new java.util.IdentityHashMap<>();
        Map<dev.septa.policy.model.Segment, Integer> sizes = new java.util.IdentityHashMap<>();
        Map<dev.septa.policy.model.Segment, List<Workload>> members = new java.util.IdentityHashMap<>();
        for (var s : mesh.segments()) {
            List<Workload> selected = new java.util.ArrayList<>();
            if (s.selector() != null) {
                for (Workload w : candidates(s, byNamespace, byLabel)) {
                    if (selects(s, w)) {
                        selected.add(w);
                    }
                }
            }
            members.put(s, selected);
            sizes.put(s, selected.size());
        }
        java.util.Comparator<dev.septa.policy.model.Segment> specific = java.util.Comparator
                .<dev.septa.policy.model.Segment>comparingInt(sizes::get)
                .thenComparing(s -> s.metadata().name());
        members.forEach((s, selected) -> {
            for (Workload w : selected) {
                best.merge(w, s, (a, b) -> specific.compare(a, b) <= 0 ? a : b);
            }
        });
        update(mesh.config().trustDomain(), mesh.workloads(), w -> {
            var s = best.get(w);
            return s == null ? null : s.metadata().name();
        });
    }

    /** The workloads that may match: those with the segment's rarest matchLabel, or its whole namespace. */
    private static List<Workload> candidates(dev.septa.policy.model.Segment s, Map<String, List<Workload>> byNamespace,
                                             Map<String, Map<String, List<Workload>>> byLabel) {
        String ns = s.metadata().namespace();
        List<Workload> out = byNamespace.getOrDefault(ns, List.of());
        Map<String, List<Workload>> index = byLabel.getOrDefault(ns, Map.of());
        for (var e : s.selector().matchLabels().entrySet()) {
            List<Workload> posting = index.getOrDefault(e.getKey() + "=" + e.getValue(), List.of());
            if (posting.size() < out.size()) {
                out = posting;
            }
        }
        return out;
    }

    private static boolean selects(dev.septa.policy.model.Segment s, Workload w) {
        return s.metadata().namespace().equals(w.metadata().namespace()) && s.selector() != null
                && s.selector().matches(w.metadata().labels() == null ? Map.of() : w.metadata().labels());
    }

    @Override
    public Optional<WorkloadRef> byNodeId(String nodeId) {
        return Optional.ofNullable(index.get().byId().get(nodeId));
    }

    @Override
    public Optional<WorkloadRef> bySource(String spiffeId, String address) {
        Index i = index.get();
        if (spiffeId == null) {
            // Plaintext (permissive mTLS): the address is all there is.
            return Optional.ofNullable(address == null ? null : i.byAddress().get(address));
        }
        List<WorkloadRef> candidates = i.byIdentity().get(spiffeId);
        if (candidates == null || candidates.isEmpty()) {
            return Optional.empty();
        }
        if (candidates.size() > 1 && address != null) {
            Map<String, String> addresses = i.addressOf();
            for (WorkloadRef c : candidates) {
                if (address.equals(addresses.get(c.id()))) {
                    return Optional.of(c);
                }
            }
        }
        return Optional.of(candidates.getFirst());
    }

    @Override
    public Map<String, String> quarantines() {
        return quarantines;
    }

    @Override
    public Collection<WorkloadRef> workloads() {
        return index.get().all();
    }
}
