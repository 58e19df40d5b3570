package dev.septa.policy.ir;

import dev.septa.policy.model.MtlsMode;
import dev.septa.policy.model.Workload;
import java.util.List;

/**
 * The intermediate form of one proxy, independent of the xDS dialect: inbound rules per port (sorted by port),
 * the rules for every other port, and the service ports it may reach (sorted by cluster name).
 */
public record WorkloadPlan(Workload workload, String identity, MtlsMode mtls, List<InboundPort> ports,
                           InboundPort otherPorts, List<ServicePort> reachable) {
    /** Lists are kept as given (already immutable): emitters cache by their identity, which replicas share. */
    public WorkloadPlan {
        ports = List.copyOf(ports);
        reachable = List.copyOf(reachable);
    }
}
