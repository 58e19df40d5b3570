package dev.septa.controlplane.publish;

import dev.septa.controlplane.source.InputFile;
import dev.septa.policy.compile.CompileResult;
import java.util.List;

/** Parse and compile the source's files into every proxy's resources; pure, no I/O. */
@FunctionalInterface
public interface MeshCompilation {
    CompileResult compile(List<InputFile> files);
}
