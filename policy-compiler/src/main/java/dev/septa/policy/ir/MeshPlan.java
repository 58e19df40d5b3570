package dev.septa.policy.ir;

import dev.septa.policy.model.Diagnostic;
import java.util.List;

/** Every workload's plan, sorted by workload id, and the diagnostics of lowering. */
public record MeshPlan(List<WorkloadPlan> workloads, List<Diagnostic> diagnostics) {
    public MeshPlan {
        workloads = List.copyOf(workloads);
        diagnostics = List.copyOf(diagnostics);
    }
}
