package dev.septa.policy.check;

import dev.septa.policy.model.Action;
import dev.septa.policy.model.DefaultAction;
import dev.septa.policy.model.HttpMatch;
import dev.septa.policy.model.Intent;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.Mode;
import dev.septa.policy.model.Peer;
import dev.septa.policy.model.PortRule;
import dev.septa.policy.model.Segment;
import dev.septa.policy.model.SegmentRef;
import dev.septa.policy.model.Workload;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The test oracle: DESIGN.md's decision rules read directly on the model, knowing nothing of RBAC, with the
 * readings of decision record 0001 (sources are principals, omitted ports = every port, an unknown method or
 * path matches only unconstrained rules, smallest intent name wins).
 */
final class DirectDecision {
    private final Mesh mesh;

    DirectDecision(Mesh mesh) {
        this.mesh = mesh;
    }

    Decision decide(Query q) {
        Workload src = workload(q.from());
        Workload dst = workload(q.to());
        Predicate<Intent> covers = i -> fromCovers(i, src) && toCovers(i, dst, q);

        Optional<String> wouldDenyBy = smallest(i -> i.action() == Action.DENY && i.mode() == Mode.DRY_RUN
                && covers.test(i));
        Optional<String> deny = smallest(i -> i.action() == Action.DENY && i.mode() == Mode.ENFORCE
                && covers.test(i));
        if (deny.isPresent()) {
            return new Decision(Decision.Verdict.DENY, deny.get(), wouldDenyBy);
        }
        Optional<String> allow = smallest(i -> i.action() == Action.ALLOW && i.mode() == Mode.ENFORCE
                && covers.test(i));
        if (allow.isPresent()) {
            return new Decision(Decision.Verdict.ALLOW, allow.get(), wouldDenyBy);
        }
        boolean closed = mesh.config().defaultAction() == DefaultAction.DENY
                || mesh.intents().stream().anyMatch(i -> i.action() == Action.ALLOW && i.mode() == Mode.ENFORCE
                        && selects(i, dst) && targetsPort(i, q.port()));
        return new Decision(closed ? Decision.Verdict.DENY : Decision.Verdict.ALLOW, Decision.DEFAULT, wouldDenyBy);
    }

    private Optional<String> smallest(Predicate<Intent> p) {
        return mesh.intents().stream().filter(p).map(Intent::qualifiedName).min(Comparator.naturalOrder());
    }

    private boolean fromCovers(Intent i, Workload src) {
        String srcId = spiffe(src);
        for (Peer peer : i.from()) {
            switch (peer) {
                case Peer.NamespacePeer ns -> {
                    if (src.metadata().namespace().equals(ns.namespace())) {
                        return true;
                    }
                }
                // Identity, not membership: any workload sharing a member's SPIFFE ID is admitted.
                case Peer.SegmentPeer sp -> {
                    if (members(resolve(sp.segment(), i)).stream().anyMatch(m -> spiffe(m).equals(srcId))) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private boolean toCovers(Intent i, Workload dst, Query q) {
        if (!selects(i, dst)) {
            return false;
        }
        List<PortRule> ports = i.to().ports();
        if (ports.isEmpty()) {
            return true;
        }
        return ports.stream().anyMatch(r -> r.port() == q.port() && httpCovers(r.http(), q));
    }

    private static boolean httpCovers(HttpMatch http, Query q) {
        if (http == null) {
            return true;
        }
        boolean method = http.methods().isEmpty() || (q.method() != null && http.methods().contains(q.method()));
        boolean path = http.paths().isEmpty() || (q.path() != null && http.paths().stream()
                .anyMatch(p -> p.endsWith("*") ? q.path().startsWith(p.substring(0, p.length() - 1))
                        : q.path().equals(p)));
        return method && path;
    }

    private static boolean targetsPort(Intent i, int port) {
        return i.to().ports().isEmpty() || i.to().ports().stream().anyMatch(r -> r.port() == port);
    }

    private boolean selects(Intent i, Workload w) {
        return members(resolve(i.to().segment(), i)).contains(w);
    }

    private Segment resolve(SegmentRef ref, Intent in) {
        String ns = ref.namespace() == null ? in.metadata().namespace() : ref.namespace();
        return mesh.segments().stream()
                .filter(s -> s.metadata().namespace().equals(ns) && s.metadata().name().equals(ref.name()))
                .findFirst().orElseThrow(() -> new IllegalStateException("no segment " + ns + "/" + ref.name()));
    }

    private List<Workload> members(Segment s) {
        return mesh.workloads().stream()
                .filter(w -> w.metadata().namespace().equals(s.metadata().namespace())
                        && s.selector().matches(w.metadata().labels()))
                .toList();
    }

    private String spiffe(Workload w) {
        return mesh.config().spiffeId(w.metadata().namespace(), w.serviceAccount());
    }

    private Workload workload(String id) {
        return mesh.workloads().stream().filter(w -> w.id().equals(id)).findFirst()
                .orElseThrow(() -> new UnknownWorkloadException("unknown workload " + id));
    }
}
