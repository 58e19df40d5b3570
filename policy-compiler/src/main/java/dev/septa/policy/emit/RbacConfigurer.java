package dev.septa.policy.emit;

import dev.septa.policy.ir.InboundPort;
import dev.septa.policy.ir.InboundRule;
import dev.septa.policy.ir.QuarantineRule;
import dev.septa.policy.ir.SourcePrincipal;
import dev.septa.policy.model.Action;
import dev.septa.policy.model.HttpMatch;
import dev.septa.policy.model.Mode;
import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBACPerRoute;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.type.matcher.v3.PathMatcher;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The two RBAC filters of docs/decisions/0001-rbac-layout.md for one port: {@code septa.deny} (enforcing Deny
 * intents, DryRun Deny as shadow rules) then {@code septa.allow} (enforcing Allow intents plus the
 * {@code default} policy when the port is open by default, DryRun Allow as shadow rules). Each policy is named
 * after its intent. Policies are cached per IR rule, which every member of a segment shares.
 * A third filter {@code septa.quarantine} (action DENY, no shadow rules) comes before both, so a quarantine beats
 * every intent. On HTTP and gRPC ports the three are constant listener-level filters and their rules are per-route
 * overrides delivered by RDS (decision 0009); on TCP ports and the default chain they are network filters of the
 * Listener, {@code septa.quarantine} only while a quarantine is in force.
 * Not thread-safe: one instance per compile.
 */
public final class RbacConfigurer {
    public static final String DENY_FILTER = "septa.deny";
    public static final String ALLOW_FILTER = "septa.allow";
    public static final String QUARANTINE_FILTER = "septa.quarantine";
    public static final String DEFAULT_POLICY = "default";
    private static final Policy OPEN = Policy.newBuilder()
            .addPrincipals(Principal.newBuilder().setAny(true)).addPermissions(Permission.newBuilder().setAny(true)).build();

    /** The four rule sets of one port; shadow sets are null when there is no DryRun intent of that action. */
    public record Rules(RBAC deny, RBAC denyShadow, RBAC allow, RBAC allowShadow) { }

    private final Map<InboundRule, Policy> policies = new IdentityHashMap<>();
    private final Map<InboundPort, Map<String, Any>> overrides = new IdentityHashMap<>();

    public Rules rules(InboundPort port) {
        RBAC.Builder deny = RBAC.newBuilder().setAction(RBAC.Action.DENY);
        RBAC.Builder denyShadow = RBAC.newBuilder().setAction(RBAC.Action.DENY);
        RBAC.Builder allow = RBAC.newBuilder().setAction(RBAC.Action.ALLOW);
        RBAC.Builder allowShadow = RBAC.newBuilder().setAction(RBAC.Action.ALLOW);
        for (InboundRule rule : port.rules()) {
            if (rule.principals().isEmpty()) {
                continue; // a rule with no source matches nothing; Envoy requires at least one principal
            }
            RBAC.Builder target = rule.action() == Action.DENY
                    ? (rule.mode() == Mode.ENFORCE ? deny : denyShadow)
                    : (rule.mode() == Mode.ENFORCE ? allow : allowShadow);
            target.putPolicies(rule.policy(), policies.computeIfAbsent(rule, RbacConfigurer::policy));
        }
        if (port.openByDefault()) {
            allow.putPolicies(DEFAULT_POLICY, OPEN);
        }
        return new Rules(deny.build(), denyShadow.getPoliciesCount() == 0 ? null : denyShadow.build(),
                allow.build(), allowShadow.getPoliciesCount() == 0 ? null : allowShadow.build());
    }

    /**
     * The HTTP RBAC filters of an HTTP or gRPC port's connection manager (decision 0009): always the same three,
     * whatever the intents say, so that a policy change never changes the Listener. Their listener-level rules only
     * apply where the route carries no override, and there they fail closed: {@code septa.quarantine} and
     * {@code septa.deny} deny nothing, {@code septa.allow} (action ALLOW, no policy) denies everything. The real rules
     * are {@link #perRouteOverrides}. {@code envoy} adds the stat prefixes ({@code septa_quarantine_},
     * {@code septa_deny_}, {@code septa_allow_}) under which Envoy writes each filter's decision into the request's
     * dynamic metadata (a per-route override without prefixes keeps them); without them the filters' keys would
     * overwrite each other and the access log could not tell which intent decided.
     */
    public static List<HttpFilter> listenerHttpFilters(boolean envoy) {
        return envoy ? ENVOY_LISTENER_FILTERS : GRPC_LISTENER_FILTERS;
    }

    private static final RBAC DENY_NOTHING = RBAC.newBuilder().setAction(RBAC.Action.DENY).build();
    private static final RBAC ALLOW_NOTHING = RBAC.newBuilder().setAction(RBAC.Action.ALLOW).build();
    private static final List<HttpFilter> GRPC_LISTENER_FILTERS = List.of(
            httpFilter(QUARANTINE_FILTER, DENY_NOTHING, null, null),
            httpFilter(DENY_FILTER, DENY_NOTHING, null, null),
            httpFilter(ALLOW_FILTER, ALLOW_NOTHING, null, null));
    private static final List<HttpFilter> ENVOY_LISTENER_FILTERS = List.of(
            httpFilter(QUARANTINE_FILTER, DENY_NOTHING, null, "septa_quarantine_"),
            httpFilter(DENY_FILTER, DENY_NOTHING, null, "septa_deny_"),
            httpFilter(ALLOW_FILTER, ALLOW_NOTHING, null, "septa_allow_"));

    /**
     * The real RBAC of an HTTP or gRPC port, as the inbound route's {@code typed_per_filter_config}: per filter name an
     * {@code RBACPerRoute} whose rules replace the filter's listener-level rules (Envoy, grpc-java and the C-core all
     * let the most specific override win). {@code septa.quarantine} only while a quarantine is in force; the same for
     * both dialects. Delivered by RDS, a change reaches existing connections without touching the Listener.
     */
    public Map<String, Any> perRouteOverrides(InboundPort port) {
        return overrides.computeIfAbsent(port, p -> {
            Rules r = rules(p);
            Map<String, Any> out = new java.util.LinkedHashMap<>();
            if (!p.quarantine().isEmpty()) {
                out.put(QUARANTINE_FILTER, perRoute(quarantine(p), null));
            }
            out.put(DENY_FILTER, perRoute(r.deny(), r.denyShadow()));
            out.put(ALLOW_FILTER, perRoute(r.allow(), r.allowShadow()));
            return java.util.Collections.unmodifiableMap(out);
        });
    }

    private static Any perRoute(RBAC rules, RBAC shadow) {
        var config = io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.newBuilder().setRules(rules);
        if (shadow != null) {
            config.setShadowRules(shadow);
        }
        return Any.pack(RBACPerRoute.newBuilder().setRbac(config).build());
    }

    /** The network RBAC filters (deny, then allow) for a TCP port or the default chain. */
    public List<Filter> networkFilters(InboundPort port, String statPrefix) {
        Rules r = rules(port);
        List<Filter> out = new ArrayList<>(3);
        if (!port.quarantine().isEmpty()) {
            out.add(networkFilter(QUARANTINE_FILTER, statPrefix + "quarantine_", quarantine(port), null));
        }
        out.add(networkFilter(DENY_FILTER, statPrefix + "deny_", r.deny(), r.denyShadow()));
        out.add(networkFilter(ALLOW_FILTER, statPrefix + "allow_", r.allow(), r.allowShadow()));
        return List.copyOf(out);
    }

    /**
     * The rules of {@code septa.quarantine}: one DENY policy per {@code quarantine:<reason>}, any permission. Rules of
     * the same name (two quarantines with one reason) are one policy whose principals are OR'd, as Envoy does with a
     * policy's principals.
     */
    static RBAC quarantine(InboundPort port) {
        Map<String, Policy.Builder> byName = new java.util.TreeMap<>();
        for (QuarantineRule rule : port.quarantine()) {
            Principal principal;
            if (!rule.everySource()) {
                principal = Principal.newBuilder().setOrIds(ids(rule.sources())).build();
            } else if (rule.except().isEmpty()) {
                principal = Principal.newBuilder().setAny(true).build();
            } else {
                // Every caller but the forensics segment; a plaintext peer (Permissive mTLS) matches too: it is not them.
                principal = Principal.newBuilder().setNotId(Principal.newBuilder().setOrIds(ids(rule.except()))).build();
            }
            byName.computeIfAbsent(rule.policy(), n -> Policy.newBuilder().addPermissions(Permission.newBuilder().setAny(true)))
                    .addPrincipals(principal);
        }
        RBAC.Builder rbac = RBAC.newBuilder().setAction(RBAC.Action.DENY);
        byName.forEach((name, policy) -> rbac.putPolicies(name, policy.build()));
        return rbac.build();
    }

    private static Principal.Set ids(List<SourcePrincipal> principals) {
        Principal.Set.Builder ids = Principal.Set.newBuilder();
        for (var p : principals) {
            StringMatcher m = p.prefix() ? StringMatcher.newBuilder().setPrefix(p.value()).build()
                    : StringMatcher.newBuilder().setExact(p.value()).build();
            ids.addIds(Principal.newBuilder().setAuthenticated(Principal.Authenticated.newBuilder().setPrincipalName(m)));
        }
        return ids.build();
    }

    private static HttpFilter httpFilter(String name, RBAC rules, RBAC shadow, String statPrefix) {
        var config = io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.newBuilder().setRules(rules);
        if (statPrefix != null) {
            config.setRulesStatPrefix(statPrefix).setShadowRulesStatPrefix(statPrefix);
        }
        if (shadow != null) {
            config.setShadowRules(shadow);
        }
        return HttpFilter.newBuilder().setName(name).setTypedConfig(Any.pack(config.build())).build();
    }

    private static Filter networkFilter(String name, String statPrefix, RBAC rules, RBAC shadow) {
        // shadow_rules_stat_prefix keeps the two filters' shadow results apart in the connection's dynamic metadata.
        var config = io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.newBuilder().setStatPrefix(statPrefix)
                .setShadowRulesStatPrefix(statPrefix).setRules(rules);
        if (shadow != null) {
            config.setShadowRules(shadow);
        }
        return ProtoBuilders.filter(name, config.build());
    }

    static Policy policy(InboundRule rule) {
        Policy.Builder policy = Policy.newBuilder().addPrincipals(Principal.newBuilder().setOrIds(ids(rule.principals())));
        for (HttpMatch match : rule.matches()) {
            policy.addPermissions(permission(match));
        }
        return policy.build();
    }

    /** An RE2 pattern matching exactly {@code text}: every character but letters and digits escaped. */
    static String literalRegex(String text) {
        StringBuilder regex = new StringBuilder(text.length() + 4);
        for (char c : text.toCharArray()) {
            if (!Character.isLetterOrDigit(c) || c > 127) {
                regex.append('\\');
            }
            regex.append(c);
        }
        return regex.toString();
    }

    private static Permission permission(HttpMatch match) {
        List<Permission> conditions = new ArrayList<>(2);
        if (!match.methods().isEmpty()) {
            Permission.Set.Builder methods = Permission.Set.newBuilder();
            for (String m : match.methods()) {
                // safe_regex_match, not string_match: the gRPC C-core learned string_match only in 1.56 (gRFC A63)
                // and NACKs the whole Listener before that; Envoy, grpc-java and the C-core all full-match RE2 here.
                methods.addRules(Permission.newBuilder().setHeader(HeaderMatcher.newBuilder().setName(":method")
                        .setSafeRegexMatch(RegexMatcher.newBuilder().setRegex(literalRegex(m)))));
            }
            conditions.add(Permission.newBuilder().setOrRules(methods).build());
        }
        if (!match.paths().isEmpty()) {
            Permission.Set.Builder paths = Permission.Set.newBuilder();
            for (String p : match.paths()) {
                StringMatcher m = p.endsWith("*")
                        ? StringMatcher.newBuilder().setPrefix(p.substring(0, p.length() - 1)).build()
                        : StringMatcher.newBuilder().setExact(p).build();
                paths.addRules(Permission.newBuilder().setUrlPath(PathMatcher.newBuilder().setPath(m)));
            }
            conditions.add(Permission.newBuilder().setOrRules(paths).build());
        }
        if (conditions.isEmpty()) {
            return Permission.newBuilder().setAny(true).build();
        }
        return Permission.newBuilder().setAndRules(Permission.Set.newBuilder().addAllRules(conditions)).build();
    }
}
