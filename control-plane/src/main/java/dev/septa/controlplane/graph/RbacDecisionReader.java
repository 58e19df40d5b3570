package dev.septa.controlplane.graph;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Metadata;

import java.util.Map;

/**
 * Reads the RBAC decision Envoy left in an access-log entry.
 *
 * <p>Envoy's RBAC filters write dynamic metadata under {@code envoy.filters.http.rbac} (network filters:
 * {@code envoy.filters.network.rbac}): {@code enforced_engine_result} / {@code enforced_effective_policy_id} and
 * {@code shadow_engine_result} / {@code shadow_effective_policy_id}, each key prefixed with the filter's
 * {@code rules_stat_prefix} / {@code shadow_rules_stat_prefix}, so that Septa's two filters (decision 0001:
 * {@code septa.deny} then {@code septa.allow}) do not overwrite each other. Keys are therefore matched by suffix.
 * A denied result that names a policy can only come from a DENY-action rule matching (an ALLOW engine that
 * matches nothing is denied with no policy id), which tells the deny filter from the allow filter without
 * knowing their prefixes. A denied request also carries {@code rbac_access_denied_matched_policy[NAME]} in its
 * response code details (HTTP) or connection termination details (TCP).
 */
final class RbacDecisionReader {
    static final String HTTP_RBAC = "envoy.filters.http.rbac";
    static final String NETWORK_RBAC = "envoy.filters.network.rbac";
    static final String DENIED_DETAILS = "rbac_access_denied";
    private static final String MATCHED = "rbac_access_denied_matched_policy[";

    /** Verdict and names as far as the entry tells them; {@code decidedBy} null when it does not. */
    record Decision(Verdict verdict, String decidedBy, String wouldDenyBy) {
    }

    private RbacDecisionReader() {
    }

    static Decision read(Metadata metadata, String namespace, String details, boolean unauthorizedFlag) {
        String denyBy = null;
        String allowBy = null;
        boolean allowMissed = false;
        String wouldDenyBy = null;
        Struct rbac = metadata.getFilterMetadataMap().get(namespace);
        if (rbac != null) {
            Map<String, Value> f = rbac.getFieldsMap();
            for (Map.Entry<String, Value> e : f.entrySet()) {
                String key = e.getKey();
                String result = e.getValue().getStringValue();
                if (key.endsWith("enforced_engine_result")) {
                    String id = string(f, prefix(key, "enforced_engine_result") + "enforced_effective_policy_id");
                    if ("denied".equals(result)) {
                        if (id != null) {
                            denyBy = min(denyBy, id);
                        } else {
                            allowMissed = true;
                        }
                    } else if ("allowed".equals(result) && id != null) {
                        allowBy = min(allowBy, id);
                    }
                } else if (key.endsWith("shadow_engine_result") && "denied".equals(result)) {
                    String id = string(f, prefix(key, "shadow_engine_result") + "shadow_effective_policy_id");
                    if (id != null) {
                        wouldDenyBy = min(wouldDenyBy, id);
                    }
                }
            }
        }
        if (denyBy != null) {
            return new Decision(Verdict.DENY, denyBy, wouldDenyBy);
        }
        if (details != null && details.startsWith(MATCHED) && details.endsWith("]")) {
            String name = details.substring(MATCHED.length(), details.length() - 1);
            return new Decision(Verdict.DENY, name.isEmpty() || name.equals("none") ? "default" : name, wouldDenyBy);
        }
        if (allowMissed) {
            return new Decision(Verdict.DENY, "default", wouldDenyBy);
        }
        if (unauthorizedFlag || (details != null && details.startsWith(DENIED_DETAILS))) {
            return new Decision(Verdict.DENY, null, wouldDenyBy);
        }
        return new Decision(Verdict.ALLOW, allowBy, wouldDenyBy);
    }

    private static String prefix(String key, String suffix) {
        return key.substring(0, key.length() - suffix.length());
    }

    private static String string(Map<String, Value> f, String key) {
        Value v = f.get(key);
        if (v == null || v.getKindCase() != Value.KindCase.STRING_VALUE || v.getStringValue().isEmpty()) {
            return null;
        }
        return v.getStringValue();
    }

    /** Several matches: name the smallest, as {@code septa check} does (decision 0001). */
    private static String min(String a, String b) {
        return a == null || b.compareTo(a) < 0 ? b : a;
    }
}
