package dev.septa.policy.ir;

import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.model.Action;
import dev.septa.policy.model.DefaultAction;
import dev.septa.policy.model.EgressRule;
import dev.septa.policy.model.HttpMatch;
import dev.septa.policy.model.Intent;
import dev.septa.policy.model.Mode;
import dev.septa.policy.model.Peer;
import dev.septa.policy.model.PortRule;
import dev.septa.policy.model.Protocol;
import dev.septa.policy.model.Segment;
import dev.septa.policy.model.Workload;
import dev.septa.policy.model.WorkloadPort;
import dev.septa.policy.resolve.ResolvedMesh;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Lowers resolved intents to one {@link WorkloadPlan} per workload. Work is proportional to the sum of
 * (intent x destination members) plus (Allow intent x source workloads): each intent's principals and rules
 * are computed once and shared by every member of its destination segment.
 */
public final class IntentLowering {
    private final ResolvedMesh mesh;
    private final List<Diagnostic> diagnostics = new ArrayList<>();
    private final Set<String> reported = new java.util.HashSet<>();
    private final Map<Intent, List<SourcePrincipal>> principals = new IdentityHashMap<>();
    private final Map<String, InboundRule> rules = new HashMap<>();
    /** Denied first on every port: the quarantined workloads as callers (empty without quarantines). */
    private List<QuarantineRule> sourceDenials = List.of();

    private IntentLowering(ResolvedMesh mesh) {
        this.mesh = mesh;
    }

    public static MeshPlan lower(ResolvedMesh mesh) {
        return new IntentLowering(mesh).run();
    }

    private MeshPlan run() {
        QuarantineLowering quarantines = QuarantineLowering.lower(mesh);
        sourceDenials = quarantines.sourceDenials();
        diagnostics.addAll(quarantines.diagnostics());
        List<Intent> intents = new ArrayList<>(mesh.mesh().intents());
        intents.sort(Comparator.comparing(Intent::qualifiedName));
        Map<Workload, List<Intent>> targeting = new IdentityHashMap<>();
        for (Intent intent : intents) {
            principals.put(intent, principalsOf(intent));
            for (Workload w : mesh.members(intent.to().segment())) {
                targeting.computeIfAbsent(w, k -> new ArrayList<>()).add(intent);
            }
        }
        Map<Workload, List<ServicePort>> reachable = new EgressScope(mesh, principals).compute(intents);
        boolean defaultAllow = mesh.mesh().config().defaultAction() == DefaultAction.ALLOW;
        List<WorkloadPlan> plans = new ArrayList<>();
        // Replicas have the same ports and are targeted by the same intents: they share one inbound form.
        Map<InboundKey, WorkloadPlan> shared = new HashMap<>();
        for (List<Workload> namespace : mesh.workloadsByNamespace().values()) {
            for (Workload w : namespace) {
                List<Intent> mine = targeting.getOrDefault(w, List.of());
                WorkloadPlan same = shared.computeIfAbsent(new InboundKey(IdentityKey.ofElements(mine), w.ports()),
                        k -> plan(w, mine, defaultAllow, List.of()));
                List<InboundPort> ports = same.ports();
                InboundPort others = same.otherPorts();
                QuarantineLowering.Own own = quarantines.own(w);
                if (own != null) {
                    // Quarantined: its own ports admit the forensics segment only, whatever its intents say.
                    ports = ports.stream().map(p -> quarantines.contain(p, own)).toList();
                    others = quarantines.contain(others, own);
                }
                plans.add(new WorkloadPlan(w, mesh.identity(w), same.mtls(), ports, others,
                        reachable.getOrDefault(w, List.of())));
            }
        }
        diagnostics.sort(Comparator.comparing(Diagnostic::toString));
        return new MeshPlan(plans, diagnostics);
    }

    private record InboundKey(IdentityKey intents, List<WorkloadPort> ports) { }

    private WorkloadPlan plan(Workload w, List<Intent> intents, boolean defaultAllow, List<ServicePort> reachable) {
        Map<Integer, Protocol> protocols = new TreeMap<>();
        java.util.Set<Integer> declared = new java.util.HashSet<>();
        for (WorkloadPort p : w.ports()) {
            protocols.put(p.port(), p.protocol());
            if (p.protocolGiven()) {
                declared.add(p.port());
            }
        }
        // A port the workload does not declare (or declares without a protocol) takes the intents' protocol. Where
        // they disagree, HTTP/GRPC beats TCP: an HTTP chain enforces a TCP-style rule (any request) as well as HTTP
        // conditions, while a TCP chain would have to drop an Allow's HTTP conditions (docs/check.md). A protocol
        // the workload declares is kept.
        for (Intent intent : intents) {
            for (PortRule rule : intent.to().ports()) {
                if (!declared.contains(rule.port())) {
                    // An entry without a protocol is HTTP when it has HTTP conditions, else it has no say (TCP).
                    Protocol p = rule.protocol() != null ? rule.protocol() : rule.http() != null ? Protocol.HTTP : Protocol.TCP;
                    protocols.merge(rule.port(), p, (had, next) -> had == Protocol.TCP ? next : had);
                }
            }
        }
        List<InboundPort> ports = new ArrayList<>(protocols.size());
        for (var e : protocols.entrySet()) {
            ports.add(inboundPort(e.getKey(), e.getValue(), intents, defaultAllow));
        }
        InboundPort others = inboundPort(0, Protocol.TCP, intents, defaultAllow);
        return new WorkloadPlan(w, mesh.identity(w), mesh.mesh().config().mtls(), ports, others, reachable);
    }

    private InboundPort inboundPort(int port, Protocol protocol, List<Intent> intents, boolean defaultAllow) {
        List<InboundRule> out = new ArrayList<>();
        boolean targetedByAllow = false;
        for (Intent intent : intents) {
            List<PortRule> portRules = new ArrayList<>(1);
            for (PortRule r : intent.to().ports()) {
                if (r.port() == port) {
                    portRules.add(r);
                }
            }
            if (!intent.to().ports().isEmpty() && portRules.isEmpty()) {
                continue;
            }
            if (intent.action() == Action.ALLOW && intent.mode() == Mode.ENFORCE) {
                targetedByAllow = true;
            }
            InboundRule rule = rule(intent, port, protocol, portRules);
            if (rule != null) {
                out.add(rule);
            }
        }
        return new InboundPort(port, protocol, out, defaultAllow && !targetedByAllow, sourceDenials);
    }

    /**
     * One rule per (intent, port, chain kind), shared by all destination members. {@code portRules}: the intent's
     * entries for this port (empty when it covers every port); any one of them admits a request.
     */
    private InboundRule rule(Intent intent, int port, Protocol protocol, List<PortRule> portRules) {
        boolean tcp = protocol == Protocol.TCP;
        String key = intent.qualifiedName() + "|" + port + "|" + tcp;
        if (rules.containsKey(key)) {
            return rules.get(key);
        }
        List<HttpMatch> matches = new ArrayList<>(portRules.size());
        for (PortRule r : portRules) {
            HttpMatch m = r.http() == null ? InboundRule.ANY : r.http();
            if (m.methods().isEmpty() && m.paths().isEmpty()) {
                matches = List.of(InboundRule.ANY); // an unconditioned entry covers whatever the others say
                break;
            }
            if (!matches.contains(m)) {
                matches.add(m);
            }
        }
        if (matches.isEmpty()) {
            matches = List.of(InboundRule.ANY);
        }
        boolean l7 = matches.get(0) != InboundRule.ANY;
        InboundRule rule;
        if (tcp && l7 && intent.action() == Action.ALLOW) {
            // Never loosen: an Allow limited to some paths cannot be enforced on a TCP chain, so it admits nothing.
            warn(intent, "Intent '" + intent.qualifiedName() + "' has HTTP rules for port " + port
                    + ", which a destination workload declares as TCP; the Allow is not applied there");
            rule = null;
        } else if (tcp && l7) {
            warn(intent, "Intent '" + intent.qualifiedName() + "' has HTTP rules for port " + port
                    + ", which a destination workload declares as TCP; the Deny applies to the whole port there");
            rule = new InboundRule(intent.qualifiedName(), intent.action(), intent.mode(), principals.get(intent), List.of(InboundRule.ANY));
        } else {
            rule = new InboundRule(intent.qualifiedName(), intent.action(), intent.mode(), principals.get(intent), matches);
        }
        rules.put(key, rule);
        return rule;
    }

    private void warn(Intent intent, String message) {
        if (reported.add(message)) {
            diagnostics.add(Diagnostic.warning(intent.source(), message));
        }
    }

    private List<SourcePrincipal> principalsOf(Intent intent) {
        Set<SourcePrincipal> out = new TreeSet<>();
        for (Peer peer : intent.from()) {
            switch (peer) {
                case Peer.NamespacePeer ns -> out.add(new SourcePrincipal(mesh.namespacePrefix(ns.namespace()), true));
                case Peer.SegmentPeer sp -> {
                    for (Workload w : mesh.members(sp.segment())) {
                        out.add(new SourcePrincipal(mesh.identity(w), false));
                    }
                }
            }
        }
        return List.copyOf(out);
    }

    /** Which service ports each workload may reach: egress scoping keeps every proxy's config small. */
    static final class EgressScope {
        /** Between the Segments and the intents' targets in a scope's key. */
        private static final Object SCOPE_SEPARATOR = new Object();
        private final ResolvedMesh mesh;
        private final Map<Intent, List<SourcePrincipal>> principals;

        EgressScope(ResolvedMesh mesh, Map<Intent, List<SourcePrincipal>> principals) {
            this.mesh = mesh;
            this.principals = principals;
        }

        Map<Workload, List<ServicePort>> compute(List<Intent> intents) {
            Map<Workload, List<ServicePort>> servicePortsOf = new IdentityHashMap<>();
            List<ServicePort> all = new ArrayList<>();
            for (var e : mesh.serviceMembers().entrySet()) {
                var svc = e.getKey();
                List<Workload> members = e.getValue();
                List<String> addresses = members.stream().map(Workload::address).distinct().sorted().toList();
                List<String> identities = members.stream().map(mesh::identity).distinct().sorted().toList();
                for (WorkloadPort p : svc.ports()) {
                    ServicePort sp = new ServicePort(svc.metadata().name(), svc.metadata().namespace(), p.port(), p.protocol(), addresses, identities);
                    all.add(sp);
                    for (Workload m : members) {
                        servicePortsOf.computeIfAbsent(m, k -> new ArrayList<>()).add(sp);
                    }
                }
            }
            Map<IdentityKey, List<ServicePort>> internedPorts = new HashMap<>();
            servicePortsOf.replaceAll((w, l) -> internedPorts.computeIfAbsent(IdentityKey.ofElements(l), k -> l));
            Comparator<ServicePort> order = Comparator.comparing(ServicePort::clusterName);
            all.sort(order);
            Map<Workload, List<ServicePort>> result = new IdentityHashMap<>();
            Map<IdentityKey, List<ServicePort>> interned = new HashMap<>();
            if (mesh.mesh().config().defaultAction() == DefaultAction.ALLOW) {
                // Open by default: any service may be reachable, so none is scoped away unless a Segment of the
                // workload scopes its egress (decision 0009); then its Allow intents' targets are added, so that what
                // policy allows is always routed.
                List<ServicePort> shared = List.copyOf(all);
                Map<Workload, List<Segment>> scoping = scopingSegments();
                Map<Workload, Set<ServicePort>> reach = scoping.isEmpty() ? Map.of() : allowedReach(intents, servicePortsOf);
                Map<Segment, Set<ServicePort>> inScope = new IdentityHashMap<>();
                // Replicas share their Segments and their intents' targets: one union per distinct pair.
                Map<IdentityKey, List<ServicePort>> byScope = new HashMap<>();
                mesh.workloadsByNamespace().values().forEach(ws -> ws.forEach(w -> {
                    List<Segment> segments = scoping.get(w);
                    if (segments == null) {
                        result.put(w, shared);
                        return;
                    }
                    List<ServicePort> targets = new ArrayList<>(reach.getOrDefault(w, Set.of()));
                    targets.sort(order);
                    List<Object> parts = new ArrayList<>(segments.size() + 1 + targets.size());
                    parts.addAll(segments);
                    parts.add(SCOPE_SEPARATOR);
                    parts.addAll(targets);
                    IdentityKey key = IdentityKey.ofElements(parts); // IdentityKey compares parts by identity: flat
                    result.put(w, byScope.computeIfAbsent(key, k -> {
                        Set<ServicePort> set = new java.util.HashSet<>(targets);
                        for (Segment s : segments) {
                            set.addAll(inScope.computeIfAbsent(s, x -> scopeOf(x, all, servicePortsOf)));
                        }
                        return sortedInterned(set, order, interned);
                    }));
                }));
                return result;
            }
            allowedReach(intents, servicePortsOf).forEach((w, set) -> result.put(w, sortedInterned(set, order, interned)));
            return result;
        }

        private static List<ServicePort> sortedInterned(Set<ServicePort> set, Comparator<ServicePort> order,
                                                        Map<IdentityKey, List<ServicePort>> interned) {
            List<ServicePort> list = new ArrayList<>(set);
            list.sort(order);
            return interned.computeIfAbsent(IdentityKey.ofElements(list), k -> List.copyOf(list));
        }

        /** The service ports each workload may call by an enforcing Allow intent that names it as a source. */
        private Map<Workload, Set<ServicePort>> allowedReach(List<Intent> intents, Map<Workload, List<ServicePort>> servicePortsOf) {
            Map<Workload, Set<ServicePort>> reach = new IdentityHashMap<>();
            for (Intent intent : intents) {
                if (intent.action() != Action.ALLOW || intent.mode() != Mode.ENFORCE) {
                    continue;
                }
                Set<Integer> ports = new java.util.HashSet<>();
                intent.to().ports().forEach(r -> ports.add(r.port()));
                Set<ServicePort> targets = new LinkedHashSet<>();
                Set<List<ServicePort>> seen = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
                for (Workload member : mesh.members(intent.to().segment())) {
                    List<ServicePort> candidates = servicePortsOf.getOrDefault(member, List.of());
                    if (!seen.add(candidates)) {
                        continue; // replicas selected by the same services: already looked at
                    }
                    for (ServicePort sp : candidates) {
                        if (ports.isEmpty() || ports.contains(sp.port())) {
                            targets.add(sp);
                        }
                    }
                }
                if (targets.isEmpty()) {
                    continue;
                }
                for (Workload source : sources(intent)) {
                    reach.computeIfAbsent(source, k -> new LinkedHashSet<>()).addAll(targets);
                }
            }
            return reach;
        }

        /** For each workload selected by a Segment with {@code spec.egress}: those Segments (sorted by name). */
        private Map<Workload, List<Segment>> scopingSegments() {
            Map<Workload, List<Segment>> out = new IdentityHashMap<>();
            List<Segment> segments = new ArrayList<>(mesh.mesh().segments());
            segments.sort(Comparator.comparing(s -> s.ref().toString()));
            for (Segment s : segments) {
                if (s.egress() != null) {
                    for (Workload w : mesh.members(s.ref())) {
                        out.computeIfAbsent(w, k -> new ArrayList<>()).add(s);
                    }
                }
            }
            return out;
        }

        /** The service ports a Segment's {@code spec.egress} names (every port of each Service named). */
        private Set<ServicePort> scopeOf(Segment segment, List<ServicePort> all, Map<Workload, List<ServicePort>> servicePortsOf) {
            Set<ServicePort> out = new java.util.HashSet<>();
            for (EgressRule rule : segment.egress()) {
                switch (rule) {
                    case EgressRule.NamespaceRule ns -> all.stream().filter(sp -> sp.namespace().equals(ns.namespace())).forEach(out::add);
                    case EgressRule.ServiceRule svc -> all.stream()
                            .filter(sp -> sp.namespace().equals(svc.namespace()) && sp.name().equals(svc.name())).forEach(out::add);
                    case EgressRule.SegmentRule seg -> mesh.members(seg.segment())
                            .forEach(m -> out.addAll(servicePortsOf.getOrDefault(m, List.of())));
                }
            }
            return out;
        }

        private List<Workload> sources(Intent intent) {
            List<Workload> out = new ArrayList<>();
            for (SourcePrincipal p : principals.get(intent)) {
                if (!p.prefix()) {
                    out.addAll(mesh.workloadsByIdentity().getOrDefault(p.value(), List.of()));
                }
            }
            for (Peer peer : intent.from()) {
                if (peer instanceof Peer.NamespacePeer ns) {
                    out.addAll(mesh.workloadsByNamespace().getOrDefault(ns.namespace(), List.of()));
                }
            }
            return out;
        }
    }
}
