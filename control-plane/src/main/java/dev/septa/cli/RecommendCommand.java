package dev.septa.cli;

import dev.septa.controlplane.graph.GraphJson;
import dev.septa.controlplane.recommend.IntentRecommender;
import dev.septa.controlplane.recommend.ObservedEdge;
import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.compile.PolicyCompiler;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code septa recommend}: Segments and Intents that allow exactly the observed traffic, grouped by a label. */
@Command(name = "recommend", mixinStandardHelpOptions = true,
        description = {"Recommend Segments and Intents (defaultAction Deny) that allow the traffic of the observed graph and",
                "nothing else, grouped by an existing label. Lists what it could only allow by widening, and what it",
                "cannot express. By default only calls allowed by the policy in force are kept (--include-denied: all)."})
public final class RecommendCommand implements Callable<Integer> {
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
            return 2;
        }
        if (compiled.mesh().isEmpty()) {
            compiled.diagnostics().stream().filter(d -> d.severity() == Diagnostic.Severity.ERROR).forEach(d -> err.println(d));
            return 2;
        }
        List<ObservedEdge> edges = new ArrayList<>();
        int denied = 0;
        for (GraphJson.Edge e : graph.edges()) {
            ObservedEdge o = ObservedEdge.of(e);
            if (o.allowed() || includeDenied) {
                edges.add(o);
            } else {
                denied++;
            }
        }
        var r = new IntentRecommender(label).recommend(compiled.mesh().get().mesh(), edges);
        try {
            if (out != null) {
                Files.createDirectories(out);
                Files.writeString(out.resolve("mesh.yaml"), r.meshYaml());
                Files.writeString(out.resolve("segments.yaml"), r.segmentsYaml());
                Files.writeString(out.resolve("intents.yaml"), r.intentsYaml());
            } else {
                stdout.print(r.meshYaml() + "---\n" + r.segmentsYaml() + (r.intentsYaml().isEmpty() ? "" : "---\n" + r.intentsYaml()));
            }
        } catch (IOException e) {
            err.println("septa recommend: cannot write " + out + ": " + e.getMessage());
            return 2;
        }
        PrintWriter report = out != null ? stdout : err;
        report.printf("septa recommend: %d observed edges -> %d segments, %d intents (grouped by label '%s')%s%n",
                r.edgesUsed(), r.segments(), r.intents(), label, out != null ? " in " + out : "");
        if (denied > 0) {
            report.printf("  %d denied edges left out (the policy in force denied them; --include-denied allows them too)%n", denied);
        }
        r.widened().forEach(w -> report.printf("  widened: %s -> %s:%d also allowed, never observed (%s)%n", w.from(), w.to(), w.port(), w.because()));
        r.unexpressible().forEach(u -> report.println("  not expressible: " + u));
        report.flush();
        return 0;
    }
}
