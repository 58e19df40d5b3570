package dev.septa.controlplane.graph;

import java.util.Optional;

/**
 * Names the intents behind an observed call by evaluating the compiled RBAC, as {@code septa check} does. The
 * control plane implements it with the policy checker over the mesh it currently serves. Called for each
 * recorded entry, so an implementation should cache by (from, to, port, method, path) and drop the cache when
 * the policy changes.
 */
public interface PolicyAnnotator {

    /** What the evaluator decides for this call; empty when it cannot say (unknown workload, no compiled mesh). */
    Optional<Annotation> annotate(String from, String to, int port, String method, String path);

    /** @param decidedBy {@code ns/intent} or {@code default}; @param wouldDenyBy the DryRun Deny intent, or null */
    record Annotation(Verdict verdict, String decidedBy, String wouldDenyBy) {
    }

    PolicyAnnotator NONE = (from, to, port, method, path) -> Optional.empty();
}
