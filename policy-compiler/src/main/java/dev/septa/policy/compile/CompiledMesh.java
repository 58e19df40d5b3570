package dev.septa.policy.compile;

import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.model.Mesh;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/** The compiler's output: every workload's proxy, keyed and sorted by node id, plus the input it came from. */
public record CompiledMesh(Mesh mesh, SortedMap<String, CompiledProxy> proxies, List<Diagnostic> warnings) {
    public CompiledMesh {
        proxies = new TreeMap<>(proxies);
        warnings = List.copyOf(warnings);
    }
}
