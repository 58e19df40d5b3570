package dev.septa.controlplane.recommend;

import dev.septa.controlplane.graph.GraphJson;
import dev.septa.policy.check.Checker;
import dev.septa.policy.check.Decision;
import dev.septa.policy.check.Query;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code septa check --impact}: which observed edges a proposed policy would newly deny or newly allow. Each edge is
 * evaluated by the {@code septa check} evaluator on the proposed compiled mesh, once per request sampled on it
 * ({@code METHOD /path}; an edge without samples, e.g. TCP, as a request of unknown method and path), and compared
 * with the verdict it was observed to get. A change on any sample is a change of the edge.
 */
public final class ImpactAnalyzer {

    public enum Kind { NEWLY_DENIED, NEWLY_ALLOWED }

    /** @param request the sampled request that changes ({@code METHOD /path}), or null when none was sampled */
    public record Change(Kind kind, GraphJson.Edge edge, String request, Decision now) { }

    /** @param unknown edges whose source or destination the proposed mesh does not have */
    public record Impact(List<Change> changes, List<GraphJson.Edge> unknown, int evaluated) { }

    private ImpactAnalyzer() { }

    public static Impact analyze(Checker proposed, List<GraphJson.Edge> edges) {
        List<Change> changes = new ArrayList<>();
        List<GraphJson.Edge> unknown = new ArrayList<>();
        int evaluated = 0;
        for (GraphJson.Edge e : edges) {
            if (!proposed.knows(e.source()) || !proposed.knows(e.target())) {
                unknown.add(e);
                continue;
            }
            evaluated++;
            boolean wasAllowed = "ALLOW".equals(e.verdict());
            List<String> requests = e.samples().isEmpty() ? java.util.Collections.singletonList(null) : e.samples();
            for (String request : requests) {
                String method = null;
                String path = null;
                if (request != null) {
                    int space = request.indexOf(' ');
                    method = space > 0 && !request.startsWith("-") ? request.substring(0, space) : null;
                    path = request.substring(space + 1);
                }
                Decision now = proposed.check(new Query(e.source(), e.target(), e.port(), method, path));
                if (now.allowed() != wasAllowed) {
                    changes.add(new Change(wasAllowed ? Kind.NEWLY_DENIED : Kind.NEWLY_ALLOWED, e, request, now));
                    break;
                }
            }
        }
        return new Impact(List.copyOf(changes), List.copyOf(unknown), evaluated);
    }
}
