package dev.septa.demo;

import dev.septa.policy.check.Checker;
import dev.septa.policy.check.Decision;
import dev.septa.policy.check.Query;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.Dialect;
import dev.septa.policy.model.Service;
import dev.septa.policy.model.Workload;
import java.util.List;
import java.util.Optional;

/**
 * What {@code septa check} says about a demo call, evaluated on the compiled proxyless RBAC of the destination.
 * A call goes to a service; when it was served, the serving workload is the destination; when it was refused, every
 * backend of the service is asked and the answer counts only when they agree.
 */
public final class ExpectedDecisions {
    private final CompiledMesh compiled;
    private final Checker checker;

    public ExpectedDecisions(CompiledMesh compiled) {
        this.compiled = compiled;
        this.checker = new Checker(compiled, Dialect.GRPC);
    }

    public CompiledMesh compiled() {
        return compiled;
    }

    /** gRPC calls are POSTs on the method path. */
    public Decision decide(String from, String to, int port, String path) {
        return checker.check(new Query(from, to, port, "POST", path));
    }

    /** The decision for a call to {@code target} ({@code NAME.NS:PORT}), or empty when backends disagree or are unknown. */
    public Optional<Decision> decide(String from, String target, String path, String servedBy) {
        int colon = target.lastIndexOf(':');
        int port = Integer.parseInt(target.substring(colon + 1));
        if (servedBy != null && !servedBy.isEmpty() && !servedBy.equals("-") && checker.knows(servedBy)) {
            return Optional.of(decide(from, servedBy, port, path));
        }
        Optional<Service> service = compiled.mesh().services().stream()
                .filter(s -> s.host().equals(target.substring(0, colon))).findFirst();
        if (service.isEmpty() || !checker.knows(from)) {
            return Optional.empty();
        }
        List<Decision> decisions = CallPlanner.backends(compiled.mesh(), service.get()).stream()
                .map(Workload::id).map(id -> decide(from, id, port, path)).distinct().toList();
        return decisions.size() == 1 ? Optional.of(decisions.getFirst()) : Optional.empty();
    }
}
