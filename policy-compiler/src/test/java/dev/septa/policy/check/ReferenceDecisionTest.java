package dev.septa.policy.check;

import static dev.septa.policy.check.Models.fromNamespace;
import static dev.septa.policy.check.Models.fromSegment;
import static dev.septa.policy.check.Models.intent;
import static dev.septa.policy.check.Models.port;
import static dev.septa.policy.check.Models.rule;
import static dev.septa.policy.check.Models.segment;
import static dev.septa.policy.check.Models.workload;
import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.policy.model.Action;
import dev.septa.policy.model.DefaultAction;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.MeshConfig;
import dev.septa.policy.model.Mode;
import dev.septa.policy.model.Protocol;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The oracle itself must be right: a few decisions worked out by hand from the decision rule (docs/architecture.md). */
class ReferenceDecisionTest {
    static Mesh shop(DefaultAction defaultAction) {
        var config = new MeshConfig("cluster.local", defaultAction, MeshConfig.DEFAULT.mtls(),
                MeshConfig.DEFAULT.certificateTTL());
        return new Mesh(config,
                List.of(segment("shop", "web", Map.of("app", "web")), segment("shop", "pay", Map.of("app", "pay")),
                        segment("ops", "tools", Map.of())),
                List.of(
                        intent("shop", "web-may-pay", Action.ALLOW, Mode.ENFORCE, List.of(fromSegment("shop", "web")),
                                "pay", rule(8443, Protocol.HTTP, List.of("POST"), List.of("/charge", "/refunds/*"))),
                        intent("shop", "ops-may-all", Action.ALLOW, Mode.ENFORCE, List.of(fromNamespace("ops")), "pay"),
                        intent("shop", "a-no-ops-admin", Action.DENY, Mode.ENFORCE,
                                List.of(fromSegment("ops", "tools")), "pay",
                                rule(8443, Protocol.HTTP, null, List.of("/admin/*"))),
                        intent("shop", "dry-no-refunds", Action.DENY, Mode.DRY_RUN,
                                List.of(fromSegment("shop", "web")), "pay",
                                rule(8443, Protocol.HTTP, null, List.of("/refunds/*")))),
                List.of(workload("shop", "web-1", "web", Map.of("app", "web")),
                        // Shares web's service account, so web's intents admit it too (principal-based sources).
                        workload("shop", "batch-1", "web", Map.of("app", "batch")),
                        workload("shop", "pay-1", "pay", Map.of("app", "pay"), port(8443, Protocol.HTTP)),
                        workload("shop", "other-1", "other", Map.of("app", "other"), port(80, Protocol.HTTP)),
                        workload("ops", "prom-1", "prom", Map.of())),
                List.of());
    }

    Decision decide(DefaultAction d, String from, String to, int port, String method, String path) {
        return new ReferenceDecision(shop(d)).decide(new Query(from, to, port, method, path));
    }

    @Test
    void handWorkedDecisions() {
        assertThat(decide(DefaultAction.DENY, "shop/web-1", "shop/pay-1", 8443, "POST", "/charge"))
                .isEqualTo(new Decision(Decision.Verdict.ALLOW, "shop/web-may-pay", Optional.empty()));
        assertThat(decide(DefaultAction.DENY, "shop/batch-1", "shop/pay-1", 8443, "POST", "/refunds/1"))
                .isEqualTo(new Decision(Decision.Verdict.ALLOW, "shop/web-may-pay", Optional.of("shop/dry-no-refunds")));
        assertThat(decide(DefaultAction.DENY, "shop/web-1", "shop/pay-1", 8443, "POST", "/refunds"))
                .isEqualTo(new Decision(Decision.Verdict.DENY, "default", Optional.empty()));
        assertThat(decide(DefaultAction.DENY, "shop/web-1", "shop/pay-1", 8443, null, "/charge"))
                .isEqualTo(new Decision(Decision.Verdict.DENY, "default", Optional.empty()));
        assertThat(decide(DefaultAction.DENY, "ops/prom-1", "shop/pay-1", 8443, "GET", "/admin/x"))
                .isEqualTo(new Decision(Decision.Verdict.DENY, "shop/a-no-ops-admin", Optional.empty()));
        assertThat(decide(DefaultAction.DENY, "ops/prom-1", "shop/pay-1", 9999, null, null))
                .isEqualTo(new Decision(Decision.Verdict.ALLOW, "shop/ops-may-all", Optional.empty()));
        assertThat(decide(DefaultAction.DENY, "shop/web-1", "shop/other-1", 80, null, null))
                .isEqualTo(new Decision(Decision.Verdict.DENY, "default", Optional.empty()));
    }

    @Test
    void defaultAllowClosesOnlyTargetedPorts() {
        // other-1 is the target of no Allow intent: open.
        assertThat(decide(DefaultAction.ALLOW, "shop/web-1", "shop/other-1", 80, null, null))
                .isEqualTo(new Decision(Decision.Verdict.ALLOW, "default", Optional.empty()));
        // pay-1 is targeted on every port by ops-may-all: closed to others, on any port.
        assertThat(decide(DefaultAction.ALLOW, "shop/other-1", "shop/pay-1", 9999, null, null))
                .isEqualTo(new Decision(Decision.Verdict.DENY, "default", Optional.empty()));
    }
}
