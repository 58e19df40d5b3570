package dev.septa.cli;

import dev.septa.controlplane.recommend.ImpactAnalyzer;
import dev.septa.controlplane.recommend.ObservedEdge;
import dev.septa.policy.check.Checker;
import dev.septa.policy.check.Decision;
import dev.septa.policy.check.Query;
import dev.septa.policy.check.QueryBatch;
import dev.septa.policy.check.UnknownWorkloadException;
import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.compile.Dialect;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.parse.InputFile;
import dev.septa.policy.rbac.UnsupportedRbacException;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code septa check}: decides a request by evaluating the compiled RBAC of the destination's proxy. Exit 0 allow
 * (and batch mode), 1 deny, 2 bad input: files that do not compile, unknown workloads, malformed queries.
 * Batch mode reads and validates every query line before answering any, so bad input prints only
 * {@code FILE:LINE: message} errors on stderr and nothing on stdout.
 */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = {"Decide whether one workload may reach another, by evaluating the compiled RBAC of the "
                + "destination's proxy.",
                "The policy is -f PATH... (files as they are now) or --at TIME (the version the control plane had in "
                + "force then, kept in its --state-dir).",
                "Exit 0 allow, 1 deny, 2 bad input; with --queries, 0 once every query is answered."})
public final class CheckCommand implements Callable<Integer> {
    static final int ALLOW = 0;
    static final int DENY = 1;
    static final int BAD_INPUT = 2;
    private static final int MAX_ERRORS = 50;

    @Spec
    CommandSpec spec;

    @Option(names = {"-f", "--file"}, arity = "1..*", paramLabel = "PATH",
            description = "YAML files or directories (read recursively: *.yaml, *.yml). Give -f or --at.")
    List<Path> files;

    @Option(names = "--at", paramLabel = "TIME",
            description = {"Decide on the policy in force at TIME (2026-12-01T10:00:00Z, or a date: its start, UTC), as "
                    + "the control plane kept it in --state-dir (STATE/policy-versions), instead of -f. Offline: no "
                    + "running control plane is needed. An instant older than the versions kept is bad input (exit 2)."})
    String at;

    @Option(names = "--state-dir", paramLabel = "DIR", defaultValue = ".septa",
            description = "With --at: the state directory of `septa serve` (default ${DEFAULT-VALUE}; the demo's is .septa/demo).")
    Path stateDir;

    @Option(names = "--from", paramLabel = "NS/NAME", description = "Source workload.")
    String from;

    @Option(names = "--to", paramLabel = "NS/NAME", description = "Destination workload.")
    String to;

    @Option(names = "--port", paramLabel = "P", description = "Destination port.")
    Integer port;

    @Option(names = "--method", paramLabel = "M", description = "HTTP method; omitted: unknown, matches only rules "
            + "without a method condition.")
    String method;

    @Option(names = "--path", paramLabel = "X", description = "HTTP path; omitted: unknown, matches only rules "
            + "without a path condition.")
    String path;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "text",
            description = "text (default) or json.")
    String output;

    @Option(names = "--queries", paramLabel = "FILE",
            description = "Batch mode: one JSON query per line ('-' for stdin); one JSON answer per line, in order.")
    String queries;

    @Option(names = "--dialect", paramLabel = "DIALECT", defaultValue = "envoy",
            description = "Whose compiled RBAC to evaluate: envoy (default) or grpc (proxyless server listeners).")
    String dialect;

    @Option(names = "--impact", description = "Impact mode: -f is a proposed policy (with its inventory); list the observed "
            + "edges (of --server or --graph) it would newly deny or newly allow. Exit 0 no change, 1 some change.")
    boolean impact;

    @Option(names = "--server", paramLabel = "URL", description = "With --impact: a running control plane's HTTP address "
            + "(default " + ObservedGraph.DEFAULT_SERVER + ").")
    String server;

    @Option(names = "--graph", paramLabel = "FILE", description = "With --impact: a saved graph (GET /api/graph, 'septa graph -o json').")
    Path graph;

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        Dialect d = switch (dialect) {
            case "envoy" -> Dialect.ENVOY;
            case "grpc" -> Dialect.GRPC;
            default -> null;
        };
        if (d == null) {
            return usage("--dialect must be envoy or grpc, not '" + dialect + "'");
        }
        if (!output.equals("text") && !output.equals("json")) {
            return usage("-o must be text or json, not '" + output + "'");
        }
        boolean single = from != null || to != null || port != null || method != null || path != null;
        if ((files == null) == (at == null)) {
            return usage(files == null ? "give the policy: -f PATH... or --at TIME" : "give -f PATH... or --at TIME, not both");
        }
        if (at != null && impact) {
            return usage("--impact evaluates a proposed policy given with -f; --at reads a past one");
        }
        if (impact) {
            if (single || queries != null) {
                return usage("--impact evaluates the observed edges; do not combine it with --queries or --from/--to/--port/--method/--path");
            }
            if (server != null && graph != null) {
                return usage("give --server or --graph, not both");
            }
            return impact(d, err);
        }
        if (server != null || graph != null) {
            return usage("--server and --graph go with --impact");
        }
        if (queries != null && single) {
            return usage("--queries answers a file of queries; do not combine it with --from/--to/--port/--method/--path");
        }
        Query query = null;
        if (queries == null) {
            if (from == null || to == null || port == null) {
                return usage("give --from NS/NAME --to NS/NAME --port P (or --queries FILE)");
            }
            if (port < 1 || port > 65535) {
                return usage("--port must be from 1 to 65535, not " + port);
            }
            if (path != null && !path.startsWith("/")) {
                return usage("--path must start with '/', not '" + path + "'");
            }
            query = new Query(from, to, port, method, path);
        }
        CompiledMesh mesh = load(err);
        if (mesh == null) {
            return BAD_INPUT;
        }
        Checker checker = new Checker(mesh, d);
        try {
            return query != null ? single(checker, query) : batch(checker, err);
        } catch (UnknownWorkloadException e) {
            err.println("septa check: " + e.getMessage());
            return BAD_INPUT;
        } catch (UnsupportedRbacException | IllegalStateException e) {
            // The compiled config holds something the evaluator cannot judge: refuse rather than guess.
            err.println("septa check: cannot evaluate the compiled configuration: " + e.getMessage());
            return BAD_INPUT;
        } finally {
            err.flush();
        }
    }

    private int impact(Dialect d, PrintWriter err) {
        dev.septa.controlplane.graph.GraphJson observed;
        try {
            observed = ObservedGraph.load(server, graph);
        } catch (PolicyFiles.UnreadableException e) {
            err.println("septa check: " + e.getMessage());
            return BAD_INPUT;
        }
        CompiledMesh mesh = load(err);
        if (mesh == null) {
            return BAD_INPUT;
        }
        ImpactAnalyzer.Impact impact;
        try {
            impact = ImpactAnalyzer.analyze(new Checker(mesh, d), ObservedEdge.of(observed));
        } catch (UnsupportedRbacException | IllegalStateException e) {
            err.println("septa check: cannot evaluate the compiled configuration: " + e.getMessage());
            return BAD_INPUT;
        }
        PrintWriter out = spec.commandLine().getOut();
        for (ImpactAnalyzer.Change c : impact.changes()) {
            ObservedEdge e = c.edge();
            String was = e.allowed() ? "ALLOW" : "DENY";
            if (output.equals("json")) {
                out.println("{\"change\":\"" + c.kind() + "\",\"from\":\"" + e.from() + "\",\"to\":\"" + e.to()
                        + "\",\"port\":" + e.port() + (c.request() == null ? "" : ",\"request\":\"" + c.request().toString().replace("\"", "") + "\"")
                        + ",\"requests\":" + e.calls() + ",\"was\":\"" + was + "\",\"wasBy\":\""
                        + (e.decidedBy() == null ? "" : e.decidedBy()) + "\",\"by\":\"" + c.now().by() + "\"}");
            } else {
                out.println((c.kind() == ImpactAnalyzer.Kind.NEWLY_DENIED ? "NEWLY DENIED  " : "NEWLY ALLOWED ") + e.pair()
                        + (c.request() == null ? "" : " " + c.request()) + "  (" + e.calls() + " calls in the window; was "
                        + (e.allowed() ? "allowed" : "denied") + (e.decidedBy() == null ? "" : " by " + e.decidedBy())
                        + ", now " + c.now().verdict() + " " + c.now().by() + ")");
            }
        }
        for (ObservedEdge e : impact.unknown()) {
            err.println("septa check: skipped " + e.pair() + ": not a workload of the proposed mesh");
        }
        err.println("septa check --impact: " + impact.evaluated() + " observed edges evaluated: "
                + impact.count(ImpactAnalyzer.Kind.NEWLY_DENIED) + " newly denied, "
                + impact.count(ImpactAnalyzer.Kind.NEWLY_ALLOWED) + " newly allowed");
        out.flush();
        return impact.changes().isEmpty() ? ALLOW : DENY;
    }

    private int single(Checker checker, Query q) {
        Decision decision = checker.check(q);
        PrintWriter out = spec.commandLine().getOut();
        if (output.equals("json")) {
            out.println(QueryBatch.toJson(q, decision));
        } else {
            out.println(decision.verdict() + " " + decision.by());
            decision.wouldDenyBy().ifPresent(w -> out.println("would be denied by " + w + " (DryRun)"));
        }
        out.flush();
        return decision.allowed() ? ALLOW : DENY;
    }

    private int batch(Checker checker, PrintWriter err) throws IOException {
        boolean stdin = queries.equals("-");
        String name = stdin ? "<stdin>" : queries;
        QueryBatch.Parsed parsed;
        try (BufferedReader in = stdin
                ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
                : Files.newBufferedReader(Path.of(queries), StandardCharsets.UTF_8)) {
            parsed = QueryBatch.parse(name, in);
        } catch (java.nio.file.NoSuchFileException e) {
            err.println("septa check: " + queries + ": no such file");
            return BAD_INPUT;
        } catch (java.nio.charset.MalformedInputException e) {
            err.println("septa check: " + name + ": not UTF-8 text");
            return BAD_INPUT;
        } catch (IOException e) {
            err.println("septa check: " + name + ": cannot read: " + e.getMessage());
            return BAD_INPUT;
        }
        var errors = new ArrayList<>(parsed.errors());
        errors.addAll(QueryBatch.unknownWorkloads(name, parsed.queries(), checker));
        if (!errors.isEmpty()) {
            errors.sort(java.util.Comparator.comparingInt(QueryBatch.LineError::line));
            errors.stream().limit(MAX_ERRORS).forEach(e -> err.println(e));
            if (errors.size() > MAX_ERRORS) {
                err.println("... and " + (errors.size() - MAX_ERRORS) + " more errors");
            }
            err.println("septa check: no query answered: fix the lines above");
            return BAD_INPUT;
        }
        parsed.warnings().stream().limit(MAX_ERRORS).forEach(w -> err.println(w));
        // Answers go to a buffer first, and out only when all are decided: no partial output on a failure.
        var buffer = new java.io.StringWriter(Math.max(1024, parsed.queries().size() * 128));
        QueryBatch.answer(checker, parsed.queries(), buffer);
        PrintWriter out = spec.commandLine().getOut();
        out.write(buffer.toString());
        out.flush();
        return ALLOW;
    }

    /** Parses and compiles every file; prints diagnostics (errors, and warnings to stderr) and returns null on errors. */
    private CompiledMesh load(PrintWriter err) {
        List<InputFile> inputs;
        if (at != null) {
            inputs = pastPolicy(err);
            if (inputs == null) {
                return null;
            }
        } else {
            try {
                inputs = PolicyFiles.read(files);
            } catch (PolicyFiles.UnreadableException e) {
                err.println("septa check: " + e.getMessage());
                return null;
            }
        }
        if (inputs.isEmpty()) {
            err.println("septa check: no *.yaml or *.yml files in " + files);
            return null;
        }
        CompileResult compiled = PolicyCompiler.compile(inputs);
        // Warnings go to stderr with the errors: stdout carries only answers.
        print(err, compiled.diagnostics());
        if (compiled.hasErrors() || compiled.mesh().isEmpty()) {
            err.println("septa check: the configuration does not compile; nothing was checked");
            return null;
        }
        return compiled.mesh().get();
    }

    /** The input files of the policy version in force at {@code --at}, from the state directory; null after an error. */
    private List<InputFile> pastPolicy(PrintWriter err) {
        java.time.Instant instant = CliTimes.parseInstant(at);
        if (instant == null) {
            err.println("septa check: --at must be an instant such as 2026-12-01T10:00:00Z or a date such as 2026-12-01, not '" + at + "'");
            return null;
        }
        var store = dev.septa.controlplane.audit.PolicyVersionStore.in(stateDir);
        try {
            var entry = store.inForceAt(instant);
            List<InputFile> inputs = store.files(entry.version());
            // stderr, so that stdout carries only answers: which version answered.
            err.println("septa check: policy version " + entry.version() + ", in force from " + entry.at()
                    + " (" + store.directory() + ")");
            return inputs;
        } catch (dev.septa.controlplane.audit.PolicyVersionStore.StoreException e) {
            err.println("septa check: " + e.getMessage());
            return null;
        }
    }

    private static void print(PrintWriter err, List<Diagnostic> diagnostics) {
        diagnostics.forEach(err::println);
        err.flush();
    }

    private int usage(String message) {
        PrintWriter err = spec.commandLine().getErr();
        err.println("septa check: " + message);
        err.println("usage: septa check -f PATH... --from NS/NAME --to NS/NAME --port P [--method M --path X] [-o json]");
        err.println("       septa check -f PATH... --queries FILE");
        err.println("       septa check --at TIME [--state-dir DIR] --from NS/NAME --to NS/NAME --port P (or --queries FILE)");
        err.flush();
        return BAD_INPUT;
    }
}
