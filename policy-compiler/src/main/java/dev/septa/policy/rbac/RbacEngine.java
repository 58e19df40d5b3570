package dev.septa.policy.rbac;

import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One compiled {@code config.rbac.v3.RBAC}: an action and its policies, checked in lexicographic order of name
 * so that the reported policy is the smallest matching name (decision record 0001; Envoy's {@code policies} is a
 * map). A policy matches when any of its permissions and any of its principals match. Immutable, thread-safe.
 */
public final class RbacEngine {
    private record CompiledPolicy(String name, RequestMatcher permissions, RequestMatcher principals) { }

    private final RBAC.Action action;
    private final List<CompiledPolicy> policies;

    private RbacEngine(RBAC.Action action, List<CompiledPolicy> policies) {
        this.action = action;
        this.policies = policies;
    }

    /** Compiles {@code rbac}; {@code where} names it in errors. Throws {@link UnsupportedRbacException}. */
    public static RbacEngine compile(RBAC rbac, String where) {
        if (rbac.getAction() != RBAC.Action.ALLOW && rbac.getAction() != RBAC.Action.DENY) {
            // LOG never decides; Septa does not emit it, so refuse rather than pretend.
            throw new UnsupportedRbacException(where, "action " + rbac.getAction());
        }
        var compiled = new ArrayList<CompiledPolicy>();
        for (Map.Entry<String, Policy> e : new TreeMap<>(rbac.getPoliciesMap()).entrySet()) {
            String at = where + ".policies[" + e.getKey() + "]";
            Policy p = e.getValue();
            if (p.hasCondition() || p.hasCheckedCondition()) {
                throw new UnsupportedRbacException(at, "CEL condition");
            }
            compiled.add(new CompiledPolicy(e.getKey(),
                    anyOf(p.getPermissionsList().stream()
                            .map(x -> MatcherCompiler.permission(x, at + ".permissions")).toList()),
                    anyOf(p.getPrincipalsList().stream()
                            .map(x -> MatcherCompiler.principal(x, at + ".principals")).toList())));
        }
        return new RbacEngine(rbac.getAction(), List.copyOf(compiled));
    }

    public RBAC.Action action() {
        return action;
    }

    public EngineResult evaluate(RbacRequest request) {
        for (CompiledPolicy p : policies) {
            if (p.permissions.matches(request) && p.principals.matches(request)) {
                return new EngineResult(action, Optional.of(p.name));
            }
        }
        return new EngineResult(action, Optional.empty());
    }

    private static RequestMatcher anyOf(List<RequestMatcher> ms) {
        RequestMatcher[] all = ms.toArray(RequestMatcher[]::new);
        return request -> {
            for (RequestMatcher m : all) {
                if (m.matches(request)) {
                    return true;
                }
            }
            return false;
        };
    }
}
