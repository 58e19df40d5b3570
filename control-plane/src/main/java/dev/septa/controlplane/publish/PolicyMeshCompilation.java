package dev.septa.controlplane.publish;

import dev.septa.policy.parse.InputFile;
import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.compile.IncrementalCompiler;
import java.util.List;

/**
 * Septa's policy compiler, incremental: unchanged files are not parsed again and unchanged proxies keep their
 * emitted resources (same result as a full compile, see {@link IncrementalCompiler}). Calls are serialized.
 */
public final class PolicyMeshCompilation implements MeshCompilation {
    private final IncrementalCompiler compiler = new IncrementalCompiler();

    @Override
    public synchronized CompileResult compile(List<InputFile> files) {
        return compiler.compile(files);
    }

    /** What the latest compile reused, for the publisher's log. */
    public synchronized IncrementalCompiler.Stats lastStats() {
        return compiler.lastStats();
    }

    @Override
    public String lastCompileDetail() {
        var stats = lastStats();
        return ": " + stats.filesParsed() + " files parsed, " + stats.filesReused() + " reused";
    }
}
