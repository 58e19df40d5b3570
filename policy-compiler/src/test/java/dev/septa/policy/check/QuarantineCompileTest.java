package dev.septa.policy.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.Dialect;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.compile.TestInputs;
import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.model.Workload;
import dev.septa.policy.parse.InputFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A quarantine is an input of the compiler and beats every intent: the quarantined workload can neither call nor be
 * called (but by its forensics segment), Allow, Deny and DryRun notwithstanding; every other decision stays as it was.
 * Decided by {@link Checker} on the compiled RBAC of both dialects, as {@code septa check} does.
 */
class QuarantineCompileTest {
    private static final Path SHOP = Path.of("../examples/shop");
    private static final String FORENSICS = """
            apiVersion: septa.dev/v1alpha1
            kind: Segment
            metadata: {name: forensics, namespace: monitoring}
            spec: {selector: {matchLabels: {app: prometheus}}}
            """;
    private static final List<String> PATHS = List.of("/shop.Payments/Charge", "/shop.Checkout/PlaceOrder", "/shop.Catalog/Get",
            "/shop.Catalog/Update", "/grpc.health.v1.Health/Check");

    private static String quarantine(String workload, String reason, String allowFrom) {
        return "apiVersion: septa.dev/v1alpha1\nkind: Quarantine\nmetadata: {name: q-" + workload + ", namespace: shop}\nspec:\n"
                + "  workload: " + workload + "\n" + (reason == null ? "" : "  reason: \"" + reason + "\"\n")
                + (allowFrom == null ? "" : "  allowFrom: " + allowFrom + "\n");
    }

    private static CompiledMesh compile(String... extra) {
        List<InputFile> inputs = new ArrayList<>(TestInputs.load(SHOP));
        inputs.add(new InputFile("forensics.yaml", FORENSICS));
        for (int i = 0; i < extra.length; i++) {
            inputs.add(new InputFile("extra-" + i + ".yaml", extra[i]));
        }
        CompileResult result = PolicyCompiler.compile(inputs);
        assertThat(result.hasErrors()).as("%s", result.diagnostics()).isFalse();
        return result.mesh().orElseThrow();
    }

    /** Every (from, to, port, path) of the shop, decided on both dialects. */
    private static Map<String, Decision> grid(CompiledMesh mesh) {
        Map<String, Decision> out = new LinkedHashMap<>();
        for (Dialect dialect : Dialect.values()) {
            Checker checker = new Checker(mesh, dialect);
            for (Workload from : mesh.mesh().workloads()) {
                for (Workload to : mesh.mesh().workloads()) {
                    for (var port : to.ports()) {
                        for (String path : PATHS) {
                            Query q = new Query(from.id(), to.id(), port.port(), "POST", path);
                            out.put(dialect + " " + from.id() + " -> " + to.id() + ":" + port.port() + " " + path, checker.check(q));
                        }
                    }
                }
            }
        }
        return out;
    }

    @Test
    void quarantineBeatsAllowInBothDirectionsAndNothingElseChanges() {
        Map<String, Decision> before = grid(compile());
        Map<String, Decision> after = grid(compile(quarantine("checkout-1", "suspected C2 beacon", null)));
        assertThat(before.get("ENVOY shop/checkout-1 -> shop/payments-1:8443 /shop.Payments/Charge").toString())
                .isEqualTo("ALLOW shop/checkout-may-charge");
        assertThat(before.get("GRPC shop/storefront-1 -> shop/checkout-1:8443 /shop.Checkout/PlaceOrder").toString())
                .isEqualTo("ALLOW shop/storefront-may-checkout");
        int changed = 0;
        for (var e : before.entrySet()) {
            String key = e.getKey();
            Decision now = after.get(key);
            boolean involved = key.contains("shop/checkout-1 ->") || key.contains("-> shop/checkout-1:");
            if (involved) {
                assertThat(now.toString()).as(key).isEqualTo("DENY quarantine:suspected C2 beacon");
                changed += e.getValue().allowed() ? 1 : 0;
            } else {
                assertThat(now).as(key).isEqualTo(e.getValue());
            }
        }
        assertThat(changed).as("allowed calls the quarantine turned into denials").isGreaterThanOrEqualTo(6);
    }

    @Test
    void quarantineBeatsDryRunAndDenyIntents() {
        String dryRunDeny = "GRPC shop/checkout-1 -> shop/catalog-1:9090 /shop.Catalog/Update";
        String deny = "ENVOY shop/storefront-1 -> shop/payments-1:8443 /shop.Payments/Charge";
        Map<String, Decision> before = grid(compile());
        assertThat(before.get(dryRunDeny).toString()).isEqualTo("ALLOW shop/checkout-may-read-catalog (would be denied by shop/lock-catalog-writes (DryRun))");
        assertThat(before.get(deny).toString()).isEqualTo("DENY shop/storefront-never-pays");
        Map<String, Decision> after = grid(compile(quarantine("checkout-1", "ir-42", null), quarantine("storefront-1", "ir-43", null)));
        // No wouldDenyBy: the quarantine filter runs first and denies, so no later filter (nor its shadow rules) runs.
        assertThat(after.get(dryRunDeny).toString()).isEqualTo("DENY quarantine:ir-42");
        assertThat(after.get(deny).toString()).isEqualTo("DENY quarantine:ir-43");
    }

    @Test
    void theForensicsSegmentMayCallTheQuarantinedWorkloadAndNoOneElse() {
        CompiledMesh mesh = compile(quarantine("payments-1", null, "monitoring/forensics"));
        for (Dialect dialect : Dialect.values()) {
            Checker checker = new Checker(mesh, dialect);
            // Any path, any port: the quarantine sets the intents aside (they allow only the health checks).
            assertThat(checker.check(new Query("monitoring/prometheus-1", "shop/payments-1", 8443, "POST", "/shop.Payments/Charge")).toString())
                    .isEqualTo("ALLOW quarantine-forensics:monitoring/forensics");
            if (dialect == Dialect.ENVOY) { // a proxyless server listens on its declared ports only
                assertThat(checker.check(new Query("monitoring/prometheus-1", "shop/payments-1", 9999, null, null)).toString())
                        .isEqualTo("ALLOW quarantine-forensics:monitoring/forensics");
            }
            assertThat(checker.check(new Query("shop/checkout-1", "shop/payments-1", 8443, "POST", "/shop.Payments/Charge")).toString())
                    .isEqualTo("DENY quarantine:unspecified");
            // The quarantined workload may not call the forensics segment either.
            assertThat(checker.check(new Query("shop/payments-1", "monitoring/prometheus-1", 9091, "POST", "/grpc.health.v1.Health/Check")).toString())
                    .isEqualTo("DENY quarantine:unspecified");
        }
    }

    @Test
    void aSharedIdentityIsCutOffAsACallerAndWarned() {
        CompileResult result = PolicyCompiler.compile(withExtra(quarantine("catalog-1", "x", null)));
        assertThat(result.diagnostics()).extracting(Diagnostic::toString)
                .anyMatch(d -> d.contains("shop/catalog-2 shares the identity of shop/catalog-1") && d.contains("warning"));
        Checker checker = new Checker(result.mesh().orElseThrow(), Dialect.GRPC);
        // catalog-2 itself can still be called; as a caller it presents catalog-1's identity.
        assertThat(checker.check(new Query("shop/checkout-1", "shop/catalog-2", 9090, "POST", "/shop.Catalog/Get")).allowed()).isTrue();
        assertThat(checker.check(new Query("shop/catalog-2", "shop/payments-1", 8443, null, null)).toString()).isEqualTo("DENY quarantine:x");
    }

    @Test
    void anUnknownWorkloadOrForensicsSegmentIsAWarningAndFailsClosed() {
        CompileResult result = PolicyCompiler.compile(withExtra(quarantine("gone-1", "x", null), quarantine("checkout-1", "y", "nope")));
        assertThat(result.hasErrors()).isFalse();
        assertThat(result.diagnostics()).extracting(Diagnostic::toString)
                .anyMatch(d -> d.startsWith("extra-0.yaml:") && d.contains("names workload 'shop/gone-1', which does not exist"))
                .anyMatch(d -> d.startsWith("extra-1.yaml:") && d.contains("forensics segment 'shop/nope', which does not exist"));
        Checker checker = new Checker(result.mesh().orElseThrow(), Dialect.ENVOY);
        assertThat(checker.check(new Query("monitoring/prometheus-1", "shop/checkout-1", 8443, "POST", "/grpc.health.v1.Health/Check")).toString())
                .isEqualTo("DENY quarantine:y");
    }

    @Test
    void aBadReasonIsAnErrorAtItsPosition() {
        CompileResult result = PolicyCompiler.compile(withExtra(quarantine("checkout-1", "tab\\there", null)));
        assertThat(result.hasErrors()).isTrue();
        assertThat(result.diagnostics()).extracting(Diagnostic::toString)
                .contains("extra-0.yaml:6:11: error: invalid reason: it must be printable ASCII (letters, digits, spaces, punctuation),"
                        + " found character U+0009 at 4 (it names the denying policy, 'quarantine:<reason>')");
    }

    @Test
    void withoutQuarantinesTheOutputIsUnchanged() {
        CompiledMesh plain = compile();
        CompiledMesh released = compile(quarantine("gone-1", "x", null)); // names no workload: nothing to enforce
        assertThat(dev.septa.policy.compile.CompiledMeshFiles.files(released)).isEqualTo(dev.septa.policy.compile.CompiledMeshFiles.files(plain));
    }

    private static List<InputFile> withExtra(String... extra) {
        List<InputFile> inputs = new ArrayList<>(TestInputs.load(SHOP));
        inputs.add(new InputFile("forensics.yaml", FORENSICS));
        for (int i = 0; i < extra.length; i++) {
            inputs.add(new InputFile("extra-" + i + ".yaml", extra[i]));
        }
        return inputs;
    }
}
