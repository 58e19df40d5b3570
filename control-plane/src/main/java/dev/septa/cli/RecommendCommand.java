package dev.septa.cli;

import dev.septa.controlplane.graph.GraphJson;
import dev.septa.controlplane.recommend.ImpactAnalyzer;
import dev.septa.controlplane.recommend.IntentRecommender;
import dev.septa.controlplane.recommend.ObservedEdge;
import dev.septa.controlplane.recommend.RecommendationCheck;
import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.rbac.UnsupportedRbacException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code septa recommend}: Segments and Intents that allow the observed calls at the level they were observed, checked
 * against the observed edges before anything is written. Exit 0 written (and checked), 1 refused (nothing written: a
 * widening under {@code --exact}, or an observed verdict the recommendation would change), 2 bad input or a
 * recommendation that could not be checked.
 */
@Command(name = "recommend", mixinStandardHelpOptions = true,
        description = {"Recommend Segments and Intents (defaultAction Deny) that allow the observed calls (ports, HTTP/gRPC",
                "methods and paths) and deny the calls the policy in force denied. Sources are grouped by a label only where",
                "the group's members made the same calls. Before writing, the recommendation is replayed on the observed",
                "edges (as septa check --impact) and must change no observed verdict. Every widening (a prefix, an",
                "identity shared, workloads a label cannot tell apart) is printed, one line per edge.",
                "Exit 0 written, 1 refused (nothing written), 2 bad input or not checkable."})
public final class RecommendCommand implements Callable<Integer> {
    static final int WRITTEN = 0;
    static final int REFUSED = 1;
    static final int BAD_INPUT = 2;

    @Option(names = {"-f", "--file"}, required = true, arity = "1..*", paramLabel = "PATH",
            description = "the inventory (Workloads, with their labels), and optionally the intents in force (for the mesh settings)")
    List<Path> files;

    static final class Source {
        @Option(names = "--server", paramLabel = "URL", description = "a running control plane's HTTP address (default " + ObservedGraph.DEFAULT_SERVER + ")")
        String server;
        @Option(names = "--graph", paramLabel = "FILE", description = "a saved graph: GET /api/graph or 'septa graph -o json'")
        Path graph;
    }

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Source source = new Source();

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", description = "write mesh.yaml, segments.yaml, intents.yaml here (default: print)")
    Path out;
    @Option(names = "--label", defaultValue = "app", description = "the label that groups workloads into segments (default ${DEFAULT-VALUE})")
    String label;
    @Option(names = "--include-denied", description = "also allow the calls the policy in force denied")
    boolean includeDenied;
    @Option(names = "--exact", description = "never widen: no path prefixes, split groups down to single label classes; "
            + "refuse (exit 1) when labels or shared identities still force a widening")
    boolean exact;
    @Option(names = "--allow-widening", description = "write even when the widenings printed would allow calls that were "
            + "observed denied (septa check --impact will then list them as newly allowed)")
    boolean allowWidening;
    @Option(names = "--rare-below", paramLabel = "N", defaultValue = "" + IntentRecommender.RARE_BELOW,
            description = "mark intents built from fewer calls in the window as RARE (default ${DEFAULT-VALUE})")
    long rareBelow;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        CompileResult compiled;
        GraphJson graph;
        try {
            compiled = PolicyCompiler.compile(PolicyFiles.read(files));
            graph = ObservedGraph.load(source == null ? null : source.server, source == null ? null : source.graph);
        } catch (PolicyFiles.UnreadableException e) {
            err.println("septa recommend: " + e.getMessage());
            return BAD_INPUT;
        }
        if (compiled.mesh().isEmpty()) {
            compiled.diagnostics().stream().filter(d -> d.severity() == Diagnostic.Severity.ERROR).forEach(d -> err.println(d));
            return BAD_INPUT;
        }
        var mesh = compiled.mesh().get().mesh();
        List<ObservedEdge> observed = ObservedEdge.of(graph);
        long denied = observed.stream().filter(e -> !e.allowed()).count();
        var options = new IntentRecommender.Options(label, exact, includeDenied, rareBelow);
        IntentRecommender.Recommendation r = new IntentRecommender(options).recommend(mesh, observed);
        RecommendationCheck.Result check;
        try {
            check = RecommendationCheck.check(mesh, r, observed, includeDenied);
        } catch (RecommendationCheck.UncheckableException | UnsupportedRbacException | IllegalStateException e) {
            err.println("septa recommend: the recommendation could not be checked, nothing written: " + e.getMessage());
            return BAD_INPUT;
        }

        PrintWriter report = out != null ? stdout : err;
        report.printf("septa recommend: observation window %d s ending %s (%d observed edges, %d calls)%n",
                graph.windowSeconds(), graph.generatedAt(), observed.size(), observed.stream().mapToLong(ObservedEdge::calls).sum());
        report.printf("septa recommend: %d observed edges -> %d segments, %d intents (grouped by label '%s'%s)%n",
                r.edgesUsed(), r.segments(), r.intents().size(), label, exact ? ", --exact" : "");
        for (IntentRecommender.IntentSummary i : r.intents()) {
            report.printf("  intent %s: built from %d calls on %d observed edges%s%n", i.name(), i.calls(), i.edges(),
                    i.rare() ? "  RARE (fewer than " + rareBelow + " calls: review before applying)" : "");
        }
        if (denied > 0) {
            report.printf("  %d denied edges %s%n", denied, includeDenied ? "allowed too (--include-denied)"
                    : "kept denied (the policy in force denied them; --include-denied allows them too)");
        }
        r.widened().forEach(w -> report.println("  widened: " + w));
        r.contradictions().forEach(c -> report.println("  contradictory: " + c));
        r.incompleteSamples().forEach(u -> report.println("  samples incomplete: " + u));
        r.unexpressible().forEach(u -> report.println("  not expressible: " + u));
        for (ImpactAnalyzer.Change c : check.unexpected()) {
            ObservedEdge e = c.edge();
            report.printf("  would newly %s: %s%s (%d calls in the window; %s by %s)%n",
                    c.kind() == ImpactAnalyzer.Kind.NEWLY_ALLOWED ? "allow" : "deny", e.pair(),
                    c.request() == null ? "" : " " + c.request(), e.calls(), c.now().verdict(), c.now().by());
        }
        long meantDenied = check.impactEdges(ImpactAnalyzer.Kind.NEWLY_DENIED) - check.newlyDenied();
        long meantAllowed = check.impactEdges(ImpactAnalyzer.Kind.NEWLY_ALLOWED) - check.newlyAllowed();
        report.printf("septa recommend: self-check (septa check --impact on %d observed edges): %d newly denied, %d newly allowed%s%n",
                check.evaluated(), check.impactEdges(ImpactAnalyzer.Kind.NEWLY_DENIED), check.impactEdges(ImpactAnalyzer.Kind.NEWLY_ALLOWED),
                meantDenied + meantAllowed == 0 ? "" : " (as meant: " + (meantDenied > 0 ? meantDenied + " edges with contradictory calls kept denied" : "")
                        + (meantDenied > 0 && meantAllowed > 0 ? ", " : "") + (meantAllowed > 0 ? meantAllowed + " denied edges allowed by --include-denied" : "") + ")");

        String refusal = null;
        if (exact && !r.widened().isEmpty()) {
            refusal = "--exact, and the " + r.widened().size() + " widenings above cannot be avoided with these labels and identities";
        } else if (check.newlyDenied() > 0) {
            refusal = "the recommendation would deny observed-allowed calls";
        } else if (check.newlyAllowed() > 0 && !allowWidening) {
            refusal = "the recommendation would allow observed-denied calls (accept with --allow-widening)";
        }
        if (refusal != null) {
            report.println("septa recommend: refused, nothing written: " + refusal);
            report.flush();
            return REFUSED;
        }
        try {
            if (out != null) {
                Files.createDirectories(out);
                Files.writeString(out.resolve("mesh.yaml"), r.meshYaml());
                Files.writeString(out.resolve("segments.yaml"), r.segmentsYaml());
                Files.writeString(out.resolve("intents.yaml"), r.intentsYaml());
                report.println("septa recommend: wrote " + out.resolve("mesh.yaml") + ", segments.yaml, intents.yaml");
            } else {
                stdout.print(r.allYaml());
            }
        } catch (IOException e) {
            err.println("septa recommend: cannot write " + out + ": " + e.getMessage());
            return BAD_INPUT;
        }
        stdout.flush();
        report.flush();
        return WRITTEN;
    }
}
