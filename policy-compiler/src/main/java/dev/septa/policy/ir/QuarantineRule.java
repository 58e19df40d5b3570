package dev.septa.policy.ir;

import java.util.List;

/**
 * One deny of the {@code septa.quarantine} RBAC filter, which runs before every other filter of a port, so a
 * quarantine beats every intent, Allow or Deny, enforcing or DryRun. Either it denies {@code sources} (the SPIFFE
 * IDs of quarantined workloads, on every other workload's ports: they may call nobody), or, with
 * {@code everySource}, every caller but {@code except} (the forensics segment), on the quarantined workload's own ports.
 * Named {@code quarantine:<reason>}. Values, compared by value: the memo of emissions keys on them.
 */
public record QuarantineRule(String policy, boolean everySource, List<SourcePrincipal> sources, List<SourcePrincipal> except) {
    public QuarantineRule {
        sources = List.copyOf(sources);
        except = List.copyOf(except);
        if (everySource != sources.isEmpty()) {
            throw new IllegalArgumentException("a quarantine rule denies either every source or the given ones");
        }
    }
}
