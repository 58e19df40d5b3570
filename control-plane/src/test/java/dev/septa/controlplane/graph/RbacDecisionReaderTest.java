package dev.septa.controlplane.graph;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The RBAC metadata combinations Septa's two filters (decision 0001) can leave in an entry. */
class RbacDecisionReaderTest {
    static RbacDecisionReader.Decision read(Map<String, String> fields, String details) {
        return RbacDecisionReader.read(EnvoyEntries.rbac(fields), RbacDecisionReader.HTTP_RBAC, details, false);
    }

    @Test
    void aMatchedDenyPolicyWinsOverAnAllowAndNamesTheSmallest() {
        var d = read(Map.of(
                "septa_deny_enforced_engine_result", "denied", "septa_deny_enforced_effective_policy_id", "shop/z-deny",
                "septa_allow_enforced_engine_result", "allowed", "septa_allow_enforced_effective_policy_id", "shop/allow"), "");
        assertThat(d).isEqualTo(new RbacDecisionReader.Decision(Verdict.DENY, "shop/z-deny", null));
    }

    @Test
    void unprefixedKeysAsASingleFilterWritesThem() {
        var d = read(Map.of("enforced_engine_result", "allowed", "enforced_effective_policy_id", "shop/a"), "via_upstream");
        assertThat(d).isEqualTo(new RbacDecisionReader.Decision(Verdict.ALLOW, "shop/a", null));
    }

    @Test
    void aShadowAllowEngineThatMatchesNothingIsNotAWouldDeny() {
        // DryRun Allow intents are shadow rules of the allow filter: "denied" there, without a policy, means only
        // that no DryRun Allow matched. A DryRun Deny matching names its policy.
        var d = read(Map.of(
                "septa_allow_enforced_engine_result", "allowed", "septa_allow_enforced_effective_policy_id", "shop/a",
                "septa_allow_shadow_engine_result", "denied",
                "septa_deny_shadow_engine_result", "allowed"), "via_upstream");
        assertThat(d.wouldDenyBy()).isNull();
        var would = read(Map.of(
                "septa_allow_enforced_engine_result", "allowed", "septa_allow_enforced_effective_policy_id", "shop/a",
                "septa_deny_shadow_engine_result", "denied", "septa_deny_shadow_effective_policy_id", "shop/dry"), "via_upstream");
        assertThat(would).isEqualTo(new RbacDecisionReader.Decision(Verdict.ALLOW, "shop/a", "shop/dry"));
    }

    @Test
    void detailsAloneDecideWhenThereIsNoMetadata() {
        assertThat(read(Map.of(), "rbac_access_denied_matched_policy[none]"))
                .isEqualTo(new RbacDecisionReader.Decision(Verdict.DENY, "default", null));
        assertThat(read(Map.of(), "rbac_access_denied_matched_policy[shop/x]"))
                .isEqualTo(new RbacDecisionReader.Decision(Verdict.DENY, "shop/x", null));
        // The proxyless reporter's marker: denied, the policy left to the evaluator.
        assertThat(read(Map.of(), "rbac_access_denied"))
                .isEqualTo(new RbacDecisionReader.Decision(Verdict.DENY, null, null));
        // An upstream's own 403 or anything else is the mesh allowing the call.
        assertThat(read(Map.of(), "via_upstream").verdict()).isEqualTo(Verdict.ALLOW);
    }

    @Test
    void nonStringValuesAndOtherFiltersAreIgnored() {
        Struct s = Struct.newBuilder()
                .putFields("enforced_engine_result", Value.newBuilder().setStringValue("denied").build())
                .putFields("enforced_effective_policy_id", Value.newBuilder().setNumberValue(42).build())
                .build();
        Metadata md = Metadata.newBuilder().putFilterMetadata(RbacDecisionReader.HTTP_RBAC, s)
                .putFilterMetadata("envoy.filters.http.jwt_authn", Struct.newBuilder()
                        .putFields("enforced_engine_result", Value.newBuilder().setStringValue("denied").build()).build())
                .build();
        // A denied result whose policy id is not a string reads as "no policy matched": the default.
        assertThat(RbacDecisionReader.read(md, RbacDecisionReader.HTTP_RBAC, "", false))
                .isEqualTo(new RbacDecisionReader.Decision(Verdict.DENY, "default", null));
        assertThat(RbacDecisionReader.read(Metadata.getDefaultInstance(), RbacDecisionReader.HTTP_RBAC, "", true).verdict())
                .isEqualTo(Verdict.DENY);
    }
}
