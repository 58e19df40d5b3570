package dev.septa.policy.compile;

import dev.septa.policy.ir.IntentLowering;
import dev.septa.policy.ir.MeshPlan;
import dev.septa.policy.ir.WorkloadPlan;
import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.parse.InputFile;
import dev.septa.policy.parse.MeshParser;
import dev.septa.policy.parse.ParseResult;
import dev.septa.policy.resolve.ResolvedMesh;
import dev.septa.policy.resolve.SelectorResolver;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The policy compiler, a pure function: mesh in, every proxy's xDS resources (both dialects) out, with all
 * diagnostics. Each proxy's resources in a dialect are emitted when first asked for ({@link CompiledProxy}), with
 * the same bytes as if emitted at once. Any error rejects the whole input: the result then carries no compiled mesh, so a broken intent
 * can never be dropped silently (which could open or close traffic nobody asked for). Same input, same output,
 * byte for byte. Thread-safe (no shared state).
 */
public final class PolicyCompiler {
    private PolicyCompiler() { }

    /** Parses and compiles; parse errors stop before resolution. */
    public static CompileResult compile(List<InputFile> inputs) {
        ParseResult parsed = MeshParser.parse(inputs);
        if (parsed.hasErrors()) {
            return new CompileResult(parsed.diagnostics(), Optional.empty());
        }
        CompileResult compiled = compile(parsed.mesh());
        List<Diagnostic> all = new ArrayList<>(parsed.diagnostics());
        all.addAll(compiled.diagnostics());
        all.sort(MeshParser.ORDER);
        return new CompileResult(all, compiled.mesh());
    }

    public static CompileResult compile(Mesh mesh) {
        return compile(mesh, EmissionMemo.EMPTY).result();
    }

    /** A compile's result and what its emissions were, for the next compile to reuse. */
    public record Memoized(CompileResult result, EmissionMemo memo) { }

    /**
     * Compiles {@code mesh}, taking each proxy's resources from {@code previous} where the emission input is equal
     * by value; the result is the same as {@link #compile(Mesh)}, byte for byte. The returned memo holds this
     * compile's emissions (or is {@code previous} when the mesh has errors).
     */
    public static Memoized compile(Mesh mesh, EmissionMemo previous) {
        ResolvedMesh resolved = SelectorResolver.resolve(mesh);
        List<Diagnostic> diagnostics = new ArrayList<>(resolved.diagnostics());
        if (diagnostics.stream().anyMatch(Diagnostic::isError)) {
            diagnostics.sort(MeshParser.ORDER);
            return new Memoized(new CompileResult(diagnostics, Optional.empty()), previous);
        }
        MeshPlan plan = IntentLowering.lower(resolved);
        diagnostics.addAll(plan.diagnostics());
        diagnostics.sort(MeshParser.ORDER);
        // Emission is deferred to the first ask per dialect (CompiledProxy): a proxy connects with one dialect only.
        EmissionContext emitters = new EmissionContext();
        EmissionMemo.Recorder memo = previous.recorder();
        TreeMap<String, CompiledProxy> proxies = new TreeMap<>();
        for (WorkloadPlan w : plan.workloads()) {
            String id = w.workload().id();
            proxies.put(id, new CompiledProxy(id, memo.envoy(w, emitters), memo.grpc(w, emitters)));
        }
        List<Diagnostic> warnings = diagnostics.stream().filter(d -> !d.isError()).toList();
        return new Memoized(new CompileResult(diagnostics, Optional.of(new CompiledMesh(mesh, proxies, warnings))), memo.result());
    }

    /** The intermediate form alone (for tests and tools); null when resolution reports errors. */
    public static MeshPlan plan(Mesh mesh) {
        ResolvedMesh resolved = SelectorResolver.resolve(mesh);
        return resolved.diagnostics().stream().anyMatch(Diagnostic::isError) ? null : IntentLowering.lower(resolved);
    }
}
