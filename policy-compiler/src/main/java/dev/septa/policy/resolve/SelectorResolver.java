package dev.septa.policy.resolve;

import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.model.Intent;
import dev.septa.policy.model.LabelSelector;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.Peer;
import dev.septa.policy.model.Segment;
import dev.septa.policy.model.SegmentRef;
import dev.septa.policy.model.Service;
import dev.septa.policy.model.Workload;
import dev.septa.policy.model.WorkloadPort;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Evaluates selectors against the inventory. A per-namespace index from {@code key=value} to workloads keeps
 * this near-linear: a selector scans only the smallest posting list of its matchLabels, never the whole mesh.
 */
public final class SelectorResolver {
    private static final Comparator<Workload> BY_ID = Comparator.comparing(Workload::id);

    private SelectorResolver() { }

    public static ResolvedMesh resolve(Mesh mesh) {
        List<Diagnostic> diagnostics = new ArrayList<>();
        Map<String, List<Workload>> byNamespace = new TreeMap<>();
        Map<String, List<Workload>> byIdentity = new HashMap<>();
        Map<String, Map<String, List<Workload>>> labelIndex = new HashMap<>();
        List<Workload> sorted = new ArrayList<>(mesh.workloads());
        sorted.sort(BY_ID);
        for (Workload w : sorted) {
            String ns = w.metadata().namespace();
            byNamespace.computeIfAbsent(ns, k -> new ArrayList<>()).add(w);
            byIdentity.computeIfAbsent(mesh.config().spiffeId(ns, w.serviceAccount()), k -> new ArrayList<>()).add(w);
            Map<String, List<Workload>> index = labelIndex.computeIfAbsent(ns, k -> new HashMap<>());
            w.metadata().labels().forEach((k, v) -> index.computeIfAbsent(k + "=" + v, x -> new ArrayList<>()).add(w));
        }

        Map<SegmentRef, List<Workload>> segmentMembers = new HashMap<>();
        for (Segment s : mesh.segments()) {
            List<Workload> members = select(s.metadata().namespace(), s.selector(), byNamespace, labelIndex);
            segmentMembers.put(s.ref(), members);
            if (members.isEmpty()) {
                diagnostics.add(Diagnostic.warning(s.source(), "Segment '" + s.ref() + "' selects no workload"));
            }
        }
        Map<Service, List<Workload>> serviceMembers = new LinkedHashMap<>();
        for (Service svc : mesh.services()) {
            serviceMembers.put(svc, select(svc.metadata().namespace(), new LabelSelector(svc.selector(), List.of()), byNamespace, labelIndex));
        }

        ResolvedMesh resolved = new ResolvedMesh(mesh, segmentMembers, serviceMembers, byNamespace, byIdentity, diagnostics);
        for (Intent intent : mesh.intents()) {
            checkIntent(intent, resolved, diagnostics);
        }
        return resolved;
    }

    private static List<Workload> select(String namespace, LabelSelector selector, Map<String, List<Workload>> byNamespace,
                                         Map<String, Map<String, List<Workload>>> labelIndex) {
        List<Workload> candidates = byNamespace.getOrDefault(namespace, List.of());
        Map<String, List<Workload>> index = labelIndex.getOrDefault(namespace, Map.of());
        for (var e : selector.matchLabels().entrySet()) {
            List<Workload> posting = index.getOrDefault(e.getKey() + "=" + e.getValue(), List.of());
            if (posting.size() < candidates.size()) {
                candidates = posting;
            }
        }
        List<Workload> members = new ArrayList<>();
        for (Workload w : candidates) {
            if (selector.matches(w.metadata().labels())) {
                members.add(w);
            }
        }
        return List.copyOf(members);
    }

    private static void checkIntent(Intent intent, ResolvedMesh resolved, List<Diagnostic> diagnostics) {
        String name = intent.qualifiedName();
        SegmentRef to = intent.to().segment();
        if (!resolved.segmentMembers().containsKey(to)) {
            diagnostics.add(Diagnostic.error(intent.source(), "Intent '" + name + "' names segment '" + to + "', which does not exist"));
        } else if (resolved.members(to).isEmpty()) {
            diagnostics.add(Diagnostic.warning(intent.source(), "Intent '" + name + "' selects no destination workload: segment '" + to + "' is empty"));
        } else {
            Set<Integer> exposed = new HashSet<>();
            for (Workload w : resolved.members(to)) {
                w.ports().forEach(p -> exposed.add(p.port()));
            }
            Set<Integer> named = new java.util.TreeSet<>();
            intent.to().ports().forEach(rule -> named.add(rule.port()));
            for (int port : named) {
                if (!exposed.contains(port)) {
                    diagnostics.add(Diagnostic.warning(intent.source(), "Intent '" + name + "': no workload of segment '" + to
                            + "' exposes port " + port + " yet"));
                }
            }
        }
        boolean anySource = false;
        for (Peer peer : intent.from()) {
            switch (peer) {
                case Peer.NamespacePeer ns -> anySource |= resolved.workloadsByNamespace().containsKey(ns.namespace());
                case Peer.SegmentPeer sp -> {
                    if (!resolved.segmentMembers().containsKey(sp.segment())) {
                        diagnostics.add(Diagnostic.error(intent.source(), "Intent '" + name + "' names segment '" + sp.segment()
                                + "', which does not exist"));
                        continue;
                    }
                    List<Workload> members = resolved.members(sp.segment());
                    anySource |= !members.isEmpty();
                    checkOverlap(name, intent, sp.segment(), members, resolved, diagnostics);
                }
            }
        }
        if (!anySource) {
            diagnostics.add(Diagnostic.warning(intent.source(), "Intent '" + name + "' selects no source workload"));
        }
    }

    /** A principal is a service account, not a pod: a rule for a segment admits every workload sharing its identities. */
    private static void checkOverlap(String name, Intent intent, SegmentRef segment, List<Workload> members,
                                     ResolvedMesh resolved, List<Diagnostic> diagnostics) {
        Set<Workload> inside = new HashSet<>(members);
        Set<String> identities = new java.util.TreeSet<>();
        members.forEach(w -> identities.add(resolved.identity(w)));
        for (String id : identities) {
            List<String> outside = new ArrayList<>();
            for (Workload w : resolved.workloadsByIdentity().getOrDefault(id, List.of())) {
                if (!inside.contains(w)) {
                    outside.add(w.id());
                }
            }
            if (!outside.isEmpty()) {
                String list = String.join(", ", outside.subList(0, Math.min(3, outside.size())))
                        + (outside.size() > 3 ? " and " + (outside.size() - 3) + " more" : "");
                diagnostics.add(Diagnostic.warning(intent.source(), "Intent '" + name + "': identity " + id + " of segment '"
                        + segment + "' is shared by workloads outside it (" + list + "); the rule admits them too"));
            }
        }
    }

    /** Ports a workload declares, by number. */
    static Map<Integer, WorkloadPort> portsOf(Workload w) {
        Map<Integer, WorkloadPort> m = new TreeMap<>();
        w.ports().forEach(p -> m.put(p.port(), p));
        return m;
    }
}
