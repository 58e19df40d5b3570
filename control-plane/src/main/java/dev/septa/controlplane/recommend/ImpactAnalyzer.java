package dev.septa.controlplane.recommend;

import dev.septa.policy.check.Checker;
import dev.septa.policy.check.Decision;
import dev.septa.policy.check.Query;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * {@code septa check --impact}, and the self-check of {@code septa recommend}: which observed edges a proposed policy
 * would newly deny or newly allow. Each edge is evaluated by the {@code septa check} evaluator on the proposed
 * compiled mesh, once per request sampled on it (an edge without samples, e.g. TCP, as a request of unknown method and
 * path), and compared with the verdict it was observed to get. A change on any sample is a change of the edge.
 */
public final class ImpactAnalyzer {

    public enum Kind { NEWLY_DENIED, NEWLY_ALLOWED }

    /** @param request the sampled request that changes, or null when none was sampled */
    public record Change(Kind kind, ObservedEdge edge, ObservedEdge.Request request, Decision now) { }

    /** @param unknown edges whose source or destination the proposed mesh does not have */
    public record Impact(List<Change> changes, List<ObservedEdge> unknown, int evaluated) {
        /** Edges with a change of this kind (an edge counts once, however many of its requests change). */
        public long count(Kind kind) {
            return changes.stream().filter(c -> c.kind() == kind).map(Change::edge).distinct().count();
        }
    }

    private ImpactAnalyzer() { }

    public static Impact analyze(Checker proposed, List<ObservedEdge> edges) {
        List<Change> changes = new ArrayList<>();
        List<ObservedEdge> unknown = new ArrayList<>();
        int evaluated = 0;
        for (ObservedEdge e : edges) {
            if (!proposed.knows(e.from()) || !proposed.knows(e.to())) {
                unknown.add(e);
                continue;
            }
            evaluated++;
            List<ObservedEdge.Request> requests = e.requests().isEmpty() ? Collections.singletonList(null) : e.requests();
            for (ObservedEdge.Request request : requests) {
                Decision now = proposed.check(new Query(e.from(), e.to(), e.port(),
                        request == null ? null : request.method(), request == null ? null : request.path()));
                if (now.allowed() != e.allowed()) {
                    changes.add(new Change(e.allowed() ? Kind.NEWLY_DENIED : Kind.NEWLY_ALLOWED, e, request, now));
                }
            }
        }
        return new Impact(List.copyOf(changes), List.copyOf(unknown), evaluated);
    }
}
