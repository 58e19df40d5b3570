package dev.septa.controlplane.recommend;

import dev.septa.policy.check.Checker;
import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.compile.Dialect;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.parse.InputFile;
import dev.septa.policy.parse.MeshParser;
import dev.septa.policy.parse.ParseResult;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The self-check of a recommendation before it is written: its YAML parsed and compiled with the inventory it was made
 * for, then every observed edge replayed by {@link ImpactAnalyzer} (the evaluation of {@code septa check --impact}), in
 * both dialects. It must newly deny none of the observed-allowed calls and newly allow none of the observed-denied
 * ones (with {@code --include-denied}, those are meant to become allowed). A request observed both allowed and denied on
 * one pair (the policy changed within the window) cannot keep both verdicts: it is kept denied and reported.
 */
public final class RecommendationCheck {

    /**
     * @param unexpected changes the recommendation must not make
     * @param meant changes it makes on purpose: calls observed both allowed and denied (kept denied), and with
     *              {@code --include-denied} the observed-denied calls
     */
    public record Result(List<ImpactAnalyzer.Change> unexpected, List<ImpactAnalyzer.Change> meant, int evaluated) {
        public long newlyAllowed() {
            return edges(ImpactAnalyzer.Kind.NEWLY_ALLOWED);
        }

        public long newlyDenied() {
            return edges(ImpactAnalyzer.Kind.NEWLY_DENIED);
        }

        /** Edges with a change of this kind, meant or not: what {@code septa check --impact} will count. */
        public long impactEdges(ImpactAnalyzer.Kind kind) {
            return java.util.stream.Stream.concat(unexpected.stream(), meant.stream()).filter(c -> c.kind() == kind)
                    .map(ImpactAnalyzer.Change::edge).distinct().count();
        }

        private long edges(ImpactAnalyzer.Kind kind) {
            return unexpected.stream().filter(c -> c.kind() == kind).map(ImpactAnalyzer.Change::edge).distinct().count();
        }
    }

    /** The recommendation does not compile: a bug, never the operator's input. */
    public static final class UncheckableException extends RuntimeException {
        UncheckableException(String message) {
            super(message);
        }
    }

    private RecommendationCheck() { }

    public static Result check(Mesh inventory, IntentRecommender.Recommendation r, List<ObservedEdge> observed,
                               boolean includeDenied) {
        ParseResult parsed = MeshParser.parse(List.of(new InputFile("<recommendation>", r.allYaml())));
        if (parsed.hasErrors()) {
            throw new UncheckableException("the recommendation does not parse: " + parsed.diagnostics());
        }
        Mesh proposed = new Mesh(parsed.mesh().config(), parsed.mesh().segments(), parsed.mesh().intents(),
                inventory.workloads(), inventory.services());
        CompileResult compiled = PolicyCompiler.compile(proposed);
        if (compiled.hasErrors() || compiled.mesh().isEmpty()) {
            throw new UncheckableException("the recommendation does not compile: " + compiled.diagnostics());
        }
        Map<String, ImpactAnalyzer.Change> unexpected = new LinkedHashMap<>();
        Map<String, ImpactAnalyzer.Change> meantChanges = new LinkedHashMap<>();
        int evaluated = 0;
        for (Dialect dialect : Dialect.values()) {
            ImpactAnalyzer.Impact impact = ImpactAnalyzer.analyze(new Checker(compiled.mesh().get(), dialect), observed);
            evaluated = Math.max(evaluated, impact.evaluated());
            for (ImpactAnalyzer.Change c : impact.changes()) {
                boolean meant = includeDenied && c.kind() == ImpactAnalyzer.Kind.NEWLY_ALLOWED
                        // a request observed both allowed and denied on one pair is kept denied, and said so
                        || c.kind() == ImpactAnalyzer.Kind.NEWLY_DENIED && r.contradictions().stream().anyMatch(x -> x.matches(c));
                (meant ? meantChanges : unexpected).putIfAbsent(c.edge() + "|" + c.request(), c);
            }
        }
        return new Result(new ArrayList<>(unexpected.values()), new ArrayList<>(meantChanges.values()), evaluated);
    }
}
