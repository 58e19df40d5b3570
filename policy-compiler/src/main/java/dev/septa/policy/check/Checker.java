package dev.septa.policy.check;

import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.CompiledProxy;
import dev.septa.policy.compile.Dialect;
import dev.septa.policy.model.Workload;
import dev.septa.policy.rbac.EngineResult;
import dev.septa.policy.rbac.FilterResult;
import dev.septa.policy.rbac.RbacFilter;
import dev.septa.policy.rbac.RbacRequest;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Answers {@link Query}s by evaluating the <em>compiled</em> RBAC of the destination's proxy, never the intents:
 * what {@code septa check} reports is what the proxy would do. The source is identified by its SPIFFE ID, as the
 * peer certificate would present it. Each destination's inbound filters are compiled on first use and kept, so a
 * batch of queries pays the protobuf walk once per proxy. Thread-safe.
 *
 * <p>Attribution (decision record 0001): the first RBAC filter that denies decides; a DENY-action filter names
 * its matched policy, an ALLOW-action filter that matched nothing is {@code default}. When every filter lets the
 * request through, the matched ALLOW policy names it ({@code default} if none). The first matched DENY shadow
 * policy among the filters that ran is {@code wouldDenyBy}.
 */
public final class Checker {
    /** Envoy sidecars' virtual inbound listener (docs/architecture.md, xDS conventions). */
    public static final String INBOUND_LISTENER = "inbound";
    /** grpc-java's server listener names: {@code grpc/server?xds.resource.listening_address=0.0.0.0:PORT}. */
    public static final String GRPC_SERVER_PREFIX = "grpc/server?xds.resource.listening_address=";

    private final CompiledMesh compiled;
    private final Dialect dialect;
    private final Map<String, Workload> workloads;
    private final Map<String, Map<Integer, InboundIndex>> inbound = new ConcurrentHashMap<>();

    public Checker(CompiledMesh compiled) {
        this(compiled, Dialect.ENVOY);
    }

    public Checker(CompiledMesh compiled, Dialect dialect) {
        this.compiled = compiled;
        this.dialect = dialect;
        this.workloads = compiled.mesh().workloads().stream()
                .collect(Collectors.toUnmodifiableMap(Workload::id, w -> w, (a, b) -> a));
    }

    /** Throws {@link UnknownWorkloadException} for a source or destination the mesh does not have. */
    public Decision check(Query q) {
        Workload src = workload(q.from(), "from");
        Workload dst = workload(q.to(), "to");
        String principal = compiled.mesh().config().spiffeId(src.metadata().namespace(), src.serviceAccount());
        Optional<InboundChain> chain = filtersFor(dst.id(), q.port());
        if (chain.isEmpty()) {
            // No filter chain takes the connection: Envoy closes it, gRPC has no server there.
            return new Decision(Decision.Verdict.DENY, Decision.DEFAULT, Optional.empty());
        }
        String path = q.path();
        if (path != null) {
            // The RBAC filters match the path the connection manager made of it (docs/check.md).
            Optional<String> seen = chain.get().paths().apply(path);
            if (seen.isEmpty()) {
                return new Decision(Decision.Verdict.DENY, Decision.PATH_REJECTED, Optional.empty());
            }
            path = seen.get();
        }
        RbacRequest request = RbacRequest.http(principal, q.port(), q.method(), path);
        return decide(chain.get().filters(), dialect == Dialect.GRPC ? request.asGrpcServerSeesIt() : request);
    }

    /** Whether the mesh has this workload ({@code ns/name}). */
    public boolean knows(String workloadId) {
        return workloads.containsKey(workloadId);
    }

    /** Whether the destination's proxy has a listener and chain for this port (false: connection refused). */
    public boolean accepts(String workloadId, int port) {
        workload(workloadId, "to");
        return filtersFor(workloadId, port).isPresent();
    }

    static Decision decide(List<RbacFilter> filters, RbacRequest request) {
        Optional<String> wouldDenyBy = Optional.empty();
        Optional<String> allowedBy = Optional.empty();
        for (RbacFilter f : filters) {
            FilterResult r = f.evaluate(request);
            if (wouldDenyBy.isEmpty() && r.shadow().isPresent() && r.shadow().get().action() == RBAC.Action.DENY) {
                wouldDenyBy = r.shadow().get().matchedPolicy();
            }
            if (!r.allowed()) {
                EngineResult e = r.enforced().orElseThrow();
                return new Decision(Decision.Verdict.DENY, e.matchedPolicy().orElse(Decision.DEFAULT), wouldDenyBy);
            }
            if (r.enforced().isPresent() && r.enforced().get().action() == RBAC.Action.ALLOW) {
                allowedBy = r.enforced().get().matchedPolicy();
            }
        }
        return new Decision(Decision.Verdict.ALLOW, allowedBy.orElse(Decision.DEFAULT), wouldDenyBy);
    }

    private Optional<InboundChain> filtersFor(String workloadId, int port) {
        InboundIndex index = inbound.computeIfAbsent(workloadId, this::index).get(dialect == Dialect.ENVOY ? 0 : port);
        return index == null ? Optional.empty() : index.filtersFor(port);
    }

    /** Envoy: the one {@code inbound} listener under key 0. gRPC: one server listener per port, keyed by port. */
    private Map<Integer, InboundIndex> index(String workloadId) {
        CompiledProxy proxy = compiled.proxies().get(workloadId);
        if (proxy == null) {
            // Every workload gets a proxy; answering for one without would be a guess.
            throw new IllegalStateException("the compiled mesh has no proxy for workload " + workloadId);
        }
        var out = new HashMap<Integer, InboundIndex>();
        Map<String, RouteConfiguration> routes = new HashMap<>();
        proxy.resources(dialect).routes().forEach(rc -> routes.put(rc.getName(), rc));
        for (Listener l : proxy.resources(dialect).listeners()) {
            if (dialect == Dialect.ENVOY && l.getName().equals(INBOUND_LISTENER)) {
                out.put(0, new InboundIndex(l, true, routes));
            } else if (dialect == Dialect.GRPC && l.getName().startsWith(GRPC_SERVER_PREFIX)) {
                out.put(grpcPort(l), new InboundIndex(l, false, routes));
            }
        }
        return out;
    }

    /** The listener's own port, else the one in its name ({@code ...listening_address=0.0.0.0:PORT}). */
    private static int grpcPort(Listener l) {
        if (l.hasAddress() && l.getAddress().hasSocketAddress()) {
            return l.getAddress().getSocketAddress().getPortValue();
        }
        String name = l.getName();
        try {
            return Integer.parseInt(name.substring(name.lastIndexOf(':') + 1));
        } catch (NumberFormatException e) {
            throw new IllegalStateException("gRPC server listener " + name + " names no port");
        }
    }

    private Workload workload(String id, String role) {
        Workload w = workloads.get(id);
        if (w != null) {
            return w;
        }
        throw new UnknownWorkloadException(unknownWorkload(id, role));
    }

    /** What is wrong with a workload reference the mesh does not have, and which ones it does have. */
    public String unknownWorkload(String id, String role) {
        String ns = id.contains("/") ? id.substring(0, id.indexOf('/')) : "";
        List<String> inNamespace = workloads.keySet().stream().filter(k -> k.startsWith(ns + "/")).sorted().toList();
        List<String> same = inNamespace.subList(0, Math.min(10, inNamespace.size()));
        String hint = !id.contains("/") ? " (write it as NAMESPACE/NAME)"
                : same.isEmpty() ? " (no workloads in namespace '" + ns + "')"
                : dev.septa.policy.parse.Suggestions.closest(id, inNamespace).map(s -> "; did you mean '" + s + "'?")
                        .orElse(" (workloads in " + ns + ": " + String.join(", ", same) + (inNamespace.size() > 10 ? ", ..." : "") + ")");
        return "unknown " + role + " workload '" + id + "'" + hint;
    }
}
