package dev.septa.policy.compile;

import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.parse.InputFile;
import dev.septa.policy.parse.MeshParser;
import dev.septa.policy.parse.ParseResult;
import dev.septa.policy.parse.ParsedFile;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@link PolicyCompiler#compile(List)} with memory of the previous call, so that a change costs in proportion to
 * what it touches: a file whose name and text are unchanged is not parsed again, and a proxy whose emission input
 * is unchanged by value gets the previous compile's {@link ProxyResources} instance (see {@link EmissionMemo}).
 * Selector resolution and lowering still run over the whole mesh: they are linear and cheap next to parsing and
 * emitting, and they are where a narrow edit's reach (who else it affects) is decided.
 *
 * <p>Every result equals {@code PolicyCompiler.compile(inputs)}, byte for byte ({@code IncrementalCompilerTest}
 * checks it on random edit sequences). A rejected input leaves the memo of the last good compile in place.
 * Not thread-safe: one instance per caller (the control plane's publisher thread).
 */
public final class IncrementalCompiler {
    private Map<InputFile, ParsedFile> parsed = Map.of();
    private EmissionMemo memo = EmissionMemo.EMPTY;
    private Stats last = new Stats(0, 0, 0);

    /** What the latest compile reused: files parsed afresh, distinct emissions held after it. */
    public record Stats(int filesParsed, int filesReused, int emissions) { }

    public CompileResult compile(List<InputFile> inputs) {
        Map<InputFile, ParsedFile> next = new HashMap<>();
        List<ParsedFile> files = new ArrayList<>(inputs.size());
        int fresh = 0;
        for (InputFile input : inputs) {
            // A file listed twice is decoded twice, as a full compile would (distinct objects, duplicate errors).
            ParsedFile file = next.containsKey(input) ? null : parsed.get(input);
            if (file == null) {
                file = MeshParser.parseFile(input);
                fresh++;
            }
            next.putIfAbsent(input, file);
            files.add(file);
        }
        parsed = next;
        ParseResult parse = MeshParser.combine(files);
        if (parse.hasErrors()) {
            last = new Stats(fresh, inputs.size() - fresh, memo.size());
            return new CompileResult(parse.diagnostics(), Optional.empty());
        }
        PolicyCompiler.Memoized compiled = PolicyCompiler.compile(parse.mesh(), memo);
        memo = compiled.memo();
        last = new Stats(fresh, inputs.size() - fresh, memo.size());
        List<Diagnostic> all = new ArrayList<>(parse.diagnostics());
        all.addAll(compiled.result().diagnostics());
        all.sort(MeshParser.ORDER);
        return new CompileResult(all, compiled.result().mesh());
    }

    public Stats lastStats() {
        return last;
    }
}
