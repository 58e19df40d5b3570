package dev.septa.controlplane.publish;

import dev.septa.policy.parse.InputFile;
import dev.septa.policy.compile.CompileResult;
import java.util.List;

/**
 * Parse and compile the source's files into every proxy's resources; no I/O. The result depends only on the files;
 * an implementation may remember earlier calls to answer faster ({@link PolicyMeshCompilation} does).
 */
@FunctionalInterface
public interface MeshCompilation {
    CompileResult compile(List<InputFile> files);

    /** What the latest compile reused, for the publisher's log line (": 3 files parsed, 40 reused"); may be empty. */
    default String lastCompileDetail() {
        return "";
    }
}
