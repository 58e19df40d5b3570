package dev.septa.policy.ir;

import dev.septa.policy.model.Action;
import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.model.Mode;
import dev.septa.policy.model.Quarantine;
import dev.septa.policy.model.Workload;
import dev.septa.policy.resolve.ResolvedMesh;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Lowers the quarantines in force (docs/incident-response.md, "Contain"). A quarantined workload may call nobody:
 * every other workload's ports deny its SPIFFE ID first ({@link #sourceDenials}); and nobody may call it but the
 * forensics segment: its own ports deny every other caller first and admit only the forensics segment
 * ({@link Own}), its intents set aside. The outbound block is enforced at the destinations because that is where
 * it holds: a compromised workload can bypass its own sidecar, not its peers'.
 *
 * <p>Sources are identities, so workloads sharing a quarantined workload's service account are cut off as callers
 * too (warned). A quarantine naming a workload or forensics segment that does not exist is a warning, never an
 * error: a quarantine must not make the whole configuration fail, and a missing forensics segment admits nobody.
 */
final class QuarantineLowering {
    static final String POLICY_PREFIX = "quarantine:";
    static final String FORENSICS_PREFIX = "quarantine-forensics:";

    /** A quarantined workload's own ports: deny all but forensics first, then admit forensics only. */
    record Own(List<QuarantineRule> rules, List<InboundRule> forensics) { }

    private final List<QuarantineRule> sourceDenials;
    private final Map<String, Own> own;
    private final List<Diagnostic> diagnostics;

    private QuarantineLowering(List<QuarantineRule> sourceDenials, Map<String, Own> own, List<Diagnostic> diagnostics) {
        this.sourceDenials = sourceDenials;
        this.own = own;
        this.diagnostics = diagnostics;
    }

    static QuarantineLowering lower(ResolvedMesh mesh) {
        List<Quarantine> quarantines = new ArrayList<>(mesh.mesh().quarantines());
        quarantines.sort(Comparator.comparing(Quarantine::qualifiedName));
        List<Diagnostic> diagnostics = new ArrayList<>();
        Map<String, TreeSet<SourcePrincipal>> denied = new TreeMap<>();
        Map<String, List<QuarantineRule>> ownRules = new HashMap<>();
        Map<String, List<InboundRule>> forensics = new HashMap<>();
        for (Quarantine q : quarantines) {
            String policy = POLICY_PREFIX + q.reason();
            Workload target = mesh.workloadsByNamespace().getOrDefault(q.metadata().namespace(), List.of()).stream()
                    .filter(w -> w.metadata().name().equals(q.workload())).findFirst().orElse(null);
            if (target == null) {
                diagnostics.add(Diagnostic.warning(q.source(), "Quarantine '" + q.qualifiedName() + "' names workload '"
                        + q.target() + "', which does not exist; it applies if one appears"));
                continue;
            }
            List<SourcePrincipal> admitted = List.of();
            if (q.allowFrom() != null) {
                if (!mesh.segmentMembers().containsKey(q.allowFrom())) {
                    diagnostics.add(Diagnostic.warning(q.source(), "Quarantine '" + q.qualifiedName() + "' names forensics segment '"
                            + q.allowFrom() + "', which does not exist; nobody may call " + q.target()));
                } else {
                    admitted = List.copyOf(new TreeSet<>(mesh.members(q.allowFrom()).stream()
                            .map(w -> new SourcePrincipal(mesh.identity(w), false)).toList()));
                    forensics.computeIfAbsent(target.id(), k -> new ArrayList<>()).add(new InboundRule(
                            FORENSICS_PREFIX + q.allowFrom(), Action.ALLOW, Mode.ENFORCE, admitted, List.of(InboundRule.ANY)));
                }
            }
            ownRules.computeIfAbsent(target.id(), k -> new ArrayList<>()).add(new QuarantineRule(policy, true, List.of(), admitted));
            String identity = mesh.identity(target);
            denied.computeIfAbsent(policy, k -> new TreeSet<>()).add(new SourcePrincipal(identity, false));
            List<String> sharing = mesh.workloadsByIdentity().getOrDefault(identity, List.of()).stream()
                    .map(Workload::id).filter(id -> !id.equals(target.id())).toList();
            if (!sharing.isEmpty()) {
                diagnostics.add(Diagnostic.warning(q.source(), "Quarantine '" + q.qualifiedName() + "': " + String.join(", ", sharing)
                        + " share" + (sharing.size() == 1 ? "s" : "") + " the identity of " + q.target() + " (" + identity
                        + "), so their calls are denied too"));
            }
        }
        List<QuarantineRule> sourceDenials = new ArrayList<>();
        denied.forEach((policy, principals) -> sourceDenials.add(new QuarantineRule(policy, false, List.copyOf(principals), List.of())));
        Map<String, Own> own = new HashMap<>();
        ownRules.forEach((id, rules) -> {
            List<InboundRule> admit = new ArrayList<>(forensics.getOrDefault(id, List.of()));
            admit.sort(Comparator.comparing(InboundRule::policy));
            rules.sort(Comparator.comparing(QuarantineRule::policy));
            own.put(id, new Own(List.copyOf(rules), List.copyOf(admit)));
        });
        return new QuarantineLowering(List.copyOf(sourceDenials), own, diagnostics);
    }

    /** What every port of every workload denies first: the quarantined workloads as callers. */
    List<QuarantineRule> sourceDenials() {
        return sourceDenials;
    }

    /** The quarantine of this workload's own ports, or null when it is not quarantined. */
    Own own(Workload w) {
        return own.get(w.id());
    }

    List<Diagnostic> diagnostics() {
        return diagnostics;
    }

    /** A quarantined workload's port: the quarantine's rules (and the source denials) first, then forensics only. */
    InboundPort contain(InboundPort port, Own q) {
        List<QuarantineRule> rules = new ArrayList<>(q.rules());
        rules.addAll(sourceDenials);
        return new InboundPort(port.port(), port.protocol(), q.forensics(), false, rules);
    }
}
