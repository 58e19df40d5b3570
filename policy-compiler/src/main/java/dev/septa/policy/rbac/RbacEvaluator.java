package dev.septa.policy.rbac;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import java.util.Optional;

/**
 * Envoy RBAC semantics evaluated on the Envoy protos themselves: the {@code config.rbac.v3.RBAC} engine, and the
 * HTTP ({@code envoy.filters.http.rbac}) and network ({@code envoy.filters.network.rbac}) filters with their
 * {@code rules} and {@code shadow_rules}. Supported: principals any, authenticated.principal_name, and_ids,
 * or_ids, not_id, header, url_path; permissions any, and_rules, or_rules, not_rule, header, url_path,
 * destination_port, destination_port_range; actions ALLOW and DENY. Anything else raises
 * {@link UnsupportedRbacException} when the filter is compiled, never a silent match or miss.
 */
public final class RbacEvaluator {
    public static final String HTTP_RBAC_TYPE =
            "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC";
    public static final String NETWORK_RBAC_TYPE =
            "type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC";

    private RbacEvaluator() { }

    public static EngineResult evaluate(RBAC rbac, RbacRequest request) {
        return RbacEngine.compile(rbac, "rbac").evaluate(request);
    }

    public static FilterResult evaluate(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC filter,
                                        String name, RbacRequest request) {
        return compile(filter, name).evaluate(request);
    }

    public static FilterResult evaluate(io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC filter,
                                        String name, RbacRequest request) {
        return compile(filter, name).evaluate(request);
    }

    public static RbacFilter compile(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC f, String name) {
        if (f.hasMatcher() || f.hasShadowMatcher()) {
            throw new UnsupportedRbacException(name, "matcher tree (matcher/shadow_matcher)");
        }
        return new RbacFilter(name, false,
                f.hasRules() ? Optional.of(RbacEngine.compile(f.getRules(), name + ".rules")) : Optional.empty(),
                f.hasShadowRules() ? Optional.of(RbacEngine.compile(f.getShadowRules(), name + ".shadow_rules"))
                        : Optional.empty());
    }

    public static RbacFilter compile(io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC f, String name) {
        if (f.hasMatcher() || f.hasShadowMatcher()) {
            throw new UnsupportedRbacException(name, "matcher tree (matcher/shadow_matcher)");
        }
        if (f.getEnforcementType()
                != io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.EnforcementType.ONE_TIME_ON_FIRST_BYTE) {
            // CONTINUOUS re-checks on dynamic metadata changes, which a one-shot check cannot model.
            throw new UnsupportedRbacException(name, "enforcement_type " + f.getEnforcementType());
        }
        return new RbacFilter(name, true,
                f.hasRules() ? Optional.of(RbacEngine.compile(f.getRules(), name + ".rules")) : Optional.empty(),
                f.hasShadowRules() ? Optional.of(RbacEngine.compile(f.getShadowRules(), name + ".shadow_rules"))
                        : Optional.empty());
    }

    /**
     * Compiles an RBAC filter from its {@code typed_config}; empty when {@code config} is not an RBAC filter
     * (the caller skips it). A malformed RBAC payload is an error.
     */
    public static Optional<RbacFilter> compile(Any config, String name) {
        try {
            if (config.getTypeUrl().equals(HTTP_RBAC_TYPE)) {
                return Optional.of(compile(
                        config.unpack(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.class), name));
            }
            if (config.getTypeUrl().equals(NETWORK_RBAC_TYPE)) {
                return Optional.of(compile(
                        config.unpack(io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.class), name));
            }
            return Optional.empty();
        } catch (InvalidProtocolBufferException e) {
            throw new UnsupportedRbacException(name, "payload that does not parse: " + e.getMessage());
        }
    }
}
