package dev.septa.policy.check;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.CompiledProxy;
import dev.septa.policy.compile.ProxyResources;
import dev.septa.policy.model.Action;
import dev.septa.policy.model.DefaultAction;
import dev.septa.policy.model.Intent;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.Mode;
import dev.septa.policy.model.Peer;
import dev.septa.policy.model.PortRule;
import dev.septa.policy.model.Protocol;
import dev.septa.policy.model.Segment;
import dev.septa.policy.model.SegmentRef;
import dev.septa.policy.model.Workload;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.type.matcher.v3.PathMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * A deliberately small, test-only rendering of decision record 0001 (inbound RBAC only, no TLS, no outbound),
 * used to exercise the Checker and the oracle against each other while the real compiler is elsewhere, and as an
 * executable reading of 0001's layout. The property test runs against the real {@code PolicyCompiler}.
 */
final class ReferenceEmitter {
    private final Mesh mesh;

    private ReferenceEmitter(Mesh mesh) {
        this.mesh = mesh;
    }

    static CompiledMesh compile(Mesh mesh) {
        var r = new ReferenceEmitter(mesh);
        var proxies = new TreeMap<String, CompiledProxy>();
        for (Workload w : mesh.workloads()) {
            proxies.put(w.id(), r.proxy(w));
        }
        return new CompiledMesh(mesh, proxies, List.of());
    }

    private CompiledProxy proxy(Workload d) {
        Map<Integer, Protocol> ports = new TreeMap<>();
        d.ports().forEach(p -> ports.put(p.port(), p.protocol()));
        mesh.intents().stream().filter(i -> selects(i, d))
                .forEach(i -> i.to().ports().forEach(r -> ports.putIfAbsent(r.port(), r.protocol())));
        var inbound = Listener.newBuilder().setName(Checker.INBOUND_LISTENER);
        var grpc = new ArrayList<Listener>();
        ports.forEach((port, protocol) -> {
            FilterChain chain = chain(d, port, protocol).setFilterChainMatch(FilterChainMatch.newBuilder()
                    .setDestinationPort(UInt32Value.of(port))).build();
            inbound.addFilterChains(chain);
            if (protocol.isHttp()) {
                grpc.add(Listener.newBuilder().setName(Checker.GRPC_SERVER_PREFIX + "0.0.0.0:" + port)
                        .addFilterChains(chain).build());
            }
        });
        inbound.setDefaultFilterChain(chain(d, null, Protocol.TCP));
        return new CompiledProxy(d.id(), resources(List.of(inbound.build())), resources(grpc));
    }

    private static ProxyResources resources(List<Listener> listeners) {
        return new ProxyResources(listeners, List.of(), List.of(), List.of());
    }

    /** {@code port} null: the default chain, which carries the intents that cover every port. */
    private FilterChain.Builder chain(Workload d, Integer port, Protocol protocol) {
        RBAC deny = rbac(RBAC.Action.DENY, d, port, Action.DENY, Mode.ENFORCE);
        RBAC dryDeny = rbac(RBAC.Action.DENY, d, port, Action.DENY, Mode.DRY_RUN);
        RBAC allow = rbac(RBAC.Action.ALLOW, d, port, Action.ALLOW, Mode.ENFORCE);
        RBAC dryAllow = rbac(RBAC.Action.ALLOW, d, port, Action.ALLOW, Mode.DRY_RUN);
        boolean targeted = mesh.intents().stream().anyMatch(i -> i.action() == Action.ALLOW && i.mode() == Mode.ENFORCE
                && selects(i, d) && (i.to().ports().isEmpty()
                        || (port != null && i.to().ports().stream().anyMatch(r -> r.port() == port))));
        if (mesh.config().defaultAction() == DefaultAction.ALLOW && !targeted) {
            allow = allow.toBuilder().putPolicies("default", Policy.newBuilder()
                    .addPermissions(Permission.newBuilder().setAny(true))
                    .addPrincipals(Principal.newBuilder().setAny(true)).build()).build();
        }
        var b = FilterChain.newBuilder();
        if (!protocol.isHttp()) {
            b.addFilters(Filter.newBuilder().setName("septa.deny").setTypedConfig(Any.pack(
                    io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.newBuilder().setStatPrefix("deny")
                            .setRules(deny).setShadowRules(dryDeny).build())));
            b.addFilters(Filter.newBuilder().setName("septa.allow").setTypedConfig(Any.pack(
                    io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.newBuilder().setStatPrefix("allow")
                            .setRules(allow).setShadowRules(dryAllow).build())));
            return b;
        }
        var hcm = HttpConnectionManager.newBuilder().setStatPrefix("inbound")
                .addHttpFilters(HttpFilter.newBuilder().setName("septa.deny").setTypedConfig(Any.pack(
                        io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.newBuilder()
                                .setRules(deny).setShadowRules(dryDeny).build())))
                .addHttpFilters(HttpFilter.newBuilder().setName("septa.allow").setTypedConfig(Any.pack(
                        io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.newBuilder()
                                .setRules(allow).setShadowRules(dryAllow).build())));
        return b.addFilters(Filter.newBuilder().setName("envoy.filters.network.http_connection_manager")
                .setTypedConfig(Any.pack(hcm.build())));
    }

    private RBAC rbac(RBAC.Action action, Workload d, Integer port, Action intentAction, Mode mode) {
        var b = RBAC.newBuilder().setAction(action);
        for (Intent i : mesh.intents()) {
            if (i.action() != intentAction || i.mode() != mode || !selects(i, d)) {
                continue;
            }
            List<Permission> perms = new ArrayList<>();
            if (i.to().ports().isEmpty()) {
                perms.add(Permission.newBuilder().setAny(true).build());
            } else if (port != null) {
                i.to().ports().stream().filter(r -> r.port() == port).forEach(r -> perms.add(permission(r)));
            }
            List<Principal> ids = principals(i);
            if (!perms.isEmpty() && !ids.isEmpty()) {
                b.putPolicies(i.qualifiedName(), Policy.newBuilder().addAllPermissions(perms)
                        .addPrincipals(Principal.newBuilder().setOrIds(Principal.Set.newBuilder().addAllIds(ids)))
                        .build());
            }
        }
        return b.build();
    }

    private static Permission permission(PortRule r) {
        if (r.http() == null || (r.http().methods().isEmpty() && r.http().paths().isEmpty())) {
            return Permission.newBuilder().setAny(true).build();
        }
        var and = Permission.Set.newBuilder();
        if (!r.http().methods().isEmpty()) {
            var or = Permission.Set.newBuilder();
            r.http().methods().forEach(m -> or.addRules(Permission.newBuilder().setHeader(HeaderMatcher.newBuilder()
                    .setName(":method").setStringMatch(StringMatcher.newBuilder().setExact(m)))));
            and.addRules(Permission.newBuilder().setOrRules(or));
        }
        if (!r.http().paths().isEmpty()) {
            var or = Permission.Set.newBuilder();
            r.http().paths().forEach(p -> or.addRules(Permission.newBuilder().setUrlPath(PathMatcher.newBuilder()
                    .setPath(p.endsWith("*") ? StringMatcher.newBuilder().setPrefix(p.substring(0, p.length() - 1))
                            : StringMatcher.newBuilder().setExact(p)))));
            and.addRules(Permission.newBuilder().setOrRules(or));
        }
        return Permission.newBuilder().setAndRules(and).build();
    }

    private List<Principal> principals(Intent i) {
        var ids = new LinkedHashSet<Principal>();
        for (Peer p : i.from()) {
            switch (p) {
                case Peer.NamespacePeer ns -> ids.add(Principal.newBuilder().setAuthenticated(
                        Principal.Authenticated.newBuilder().setPrincipalName(StringMatcher.newBuilder()
                                .setPrefix("spiffe://" + mesh.config().trustDomain() + "/ns/" + ns.namespace()
                                        + "/sa/")))
                        .build());
                case Peer.SegmentPeer sp -> members(sp.segment()).forEach(m -> ids.add(Principal.newBuilder()
                        .setAuthenticated(Principal.Authenticated.newBuilder().setPrincipalName(
                                StringMatcher.newBuilder().setExact(mesh.config().spiffeId(
                                        m.metadata().namespace(), m.serviceAccount()))))
                        .build()));
            }
        }
        return List.copyOf(ids);
    }

    private boolean selects(Intent i, Workload w) {
        return members(i.to().segment()).contains(w);
    }

    private List<Workload> members(SegmentRef ref) {
        Predicate<Segment> named = s -> s.ref().equals(ref);
        Segment s = mesh.segments().stream().filter(named).findFirst().orElseThrow();
        return mesh.workloads().stream().filter(w -> w.metadata().namespace().equals(s.metadata().namespace())
                && s.selector().matches(w.metadata().labels())).toList();
    }
}
