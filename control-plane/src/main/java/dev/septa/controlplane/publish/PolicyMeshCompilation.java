package dev.septa.controlplane.publish;

import dev.septa.controlplane.source.InputFile;
import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.compile.PolicyCompiler;
import java.util.List;

/** Septa's policy compiler: parse every file, then compile the mesh they describe together. */
public final class PolicyMeshCompilation implements MeshCompilation {
    @Override
    public CompileResult compile(List<InputFile> files) {
        return PolicyCompiler.compile(files.stream()
                .map(f -> new dev.septa.policy.parse.InputFile(f.name(), f.text())).toList());
    }
}
