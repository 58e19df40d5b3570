package dev.septa.controlplane.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.septa.controlplane.kubernetes.ObjectIsolatingCompilation.InForce;
import dev.septa.controlplane.publish.PolicyMeshCompilation;
import dev.septa.policy.check.Checker;
import dev.septa.policy.check.Query;
import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.parse.InputFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ObjectIsolatingCompilation} on the shop example, one input per object as Kubernetes mode renders them: a bad
 * object is set aside on its own, the rest is compiled, and nothing is opened by setting aside (the decision rule is
 * checked on the compiled RBAC with {@link Checker}).
 */
class ObjectIsolationCompileTest {
    static final Path SHOP = Path.of("..", "examples", "shop").toAbsolutePath().normalize();
    static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .enable(com.fasterxml.jackson.dataformat.yaml.YAMLGenerator.Feature.MINIMIZE_QUOTES).build());
    static final String DENY = "k8s:shop/Intent/storefront-never-pays";
    /** Without the Deny, this Allow would let the storefront reach payments: what a lost Deny would open. */
    static final String STOREFRONT_REACHES_ALL = """
            apiVersion: septa.dev/v1alpha1
            kind: Intent
            metadata: {name: storefront-reaches-all, namespace: shop}
            spec:
              action: Allow
              from: [{segment: storefront}]
              to: {segment: everything, ports: [{port: 8443}]}
            """;
    static final Query STOREFRONT_PAYS = new Query("shop/storefront-1", "shop/payments-1", 8443, "POST", "/shop.Payments/Charge");
    static final Query CHECKOUT_PAYS = new Query("shop/checkout-1", "shop/payments-1", 8443, "POST", "/shop.Payments/Charge");

    final ObjectIsolatingCompilation compilation = new ObjectIsolatingCompilation(new PolicyMeshCompilation());
    Map<String, InputFile> objects;

    @BeforeEach
    void shopWithAnAllowTheDenyOverrides() throws Exception {
        objects = shopObjects();
        put("k8s:shop/Intent/storefront-reaches-all", STOREFRONT_REACHES_ALL);
        CompiledMesh mesh = compileOk();
        assertThat(new Checker(mesh).check(STOREFRONT_PAYS)).hasToString("DENY shop/storefront-never-pays");
        assertThat(compilation.verdicts()).hasSize(objects.size()).allSatisfy((name, v) -> assertThat(v.accepted()).isTrue());
    }

    @Test
    void withNothingBrokenTheResultIsThePlainCompilersByteForByte() {
        CompileResult plain = PolicyCompiler.compile(List.copyOf(objects.values()));
        assertThat(compilation.compile(List.copyOf(objects.values()))).isEqualTo(plain);
    }

    @Test
    void aBrokenDenyIntentThatWasValidKeepsDenyingAndEverythingElseStillCompiles() {
        put(DENY, text(DENY).replace("action: Deny", "action: Permit"));
        // In the same change: a new pod, and an edit of another intent. Both must be applied.
        put("k8s:shop/Pod/payments-2", text("k8s:shop/Pod/payments-1").replace("payments-1", "payments-2").replace("127.0.1.3", "127.0.1.9"));
        put("k8s:shop/Intent/checkout-may-charge", text("k8s:shop/Intent/checkout-may-charge").replace("segment: payments", "segment: catalog"));

        CompiledMesh mesh = compileOk();
        Checker checker = new Checker(mesh);
        assertThat(checker.check(STOREFRONT_PAYS)).hasToString("DENY shop/storefront-never-pays");
        assertThat(checker.check(new Query("shop/storefront-1", "shop/payments-2", 8443, "POST", "/x"))).hasToString("DENY shop/storefront-never-pays");
        assertThat(mesh.proxies()).containsKey("shop/payments-2");
        assertThat(checker.check(CHECKOUT_PAYS)).as("the other intent's edit is in force").hasToString("DENY default");

        var verdict = compilation.verdicts().get(DENY);
        assertThat(verdict.accepted()).isFalse();
        assertThat(verdict.inForce()).isEqualTo(InForce.LAST_VALID);
        assertThat(verdict.message()).matches("k8s:shop/Intent/storefront-never-pays:\\d+:\\d+: .*Permit.*");
        assertThat(compilation.verdicts().get("k8s:shop/Pod/payments-2").accepted()).isTrue();
        assertThat(lastResult.diagnostics()).filteredOn(d -> !d.isError())
                .anySatisfy(d -> assertThat(d.toString()).startsWith(DENY + ":").contains("warning: set aside, its last valid version stays in force"));

        // Fixed: the new version is in force.
        put(DENY, text(DENY).replace("action: Permit", "action: Deny").replace("segment: payments", "segment: checkout"));
        Checker fixed = new Checker(compileOk());
        assertThat(fixed.check(new Query("shop/storefront-1", "shop/checkout-1", 8443, "POST", "/x"))).hasToString("DENY shop/storefront-never-pays");
        assertThat(fixed.check(STOREFRONT_PAYS)).as("the Deny moved, so the Allow now decides").hasToString("ALLOW shop/storefront-reaches-all");
        assertThat(compilation.verdicts().get(DENY).accepted()).isTrue();
    }

    @Test
    void aBrokenIntentThatWasNeverValidIsNotAppliedAndOpensNothing() {
        String name = "k8s:shop/Intent/storefront-may-pay";
        put(name, STOREFRONT_REACHES_ALL.replace("storefront-reaches-all", "storefront-may-pay").replace("everything", "payments")
                .replace("port: 8443", "port: 8443, protocol: SMTP"));
        CompiledMesh mesh = compileOk();
        assertThat(mesh.mesh().intents()).noneSatisfy(i -> assertThat(i.qualifiedName()).isEqualTo("shop/storefront-may-pay"));
        assertThat(new Checker(mesh).check(STOREFRONT_PAYS)).hasToString("DENY shop/storefront-never-pays");
        assertThat(compilation.verdicts().get(name).inForce()).isEqualTo(InForce.NONE);
        assertThat(compilation.verdicts().get(name).message()).startsWith(name + ":").contains("SMTP");
    }

    @Test
    void aBrokenSegmentThatWasValidKeepsItsMembersSoTheIntentsNamingItHoldTheirMeaning() {
        String payments = "k8s:shop/Segment/payments";
        put(payments, text(payments).replace("operator: In", "operator: Near"));
        CompiledMesh mesh = compileOk();
        Checker checker = new Checker(mesh);
        assertThat(checker.check(STOREFRONT_PAYS)).hasToString("DENY shop/storefront-never-pays");
        assertThat(checker.check(CHECKOUT_PAYS)).hasToString("ALLOW shop/checkout-may-charge");
        assertThat(compilation.verdicts().get(payments).inForce()).isEqualTo(InForce.LAST_VALID);
        assertThat(compilation.verdicts().get(DENY).accepted()).as("the intents naming it are fine themselves").isTrue();
    }

    @Test
    void aSegmentThatWasNeverValidLeavesOutTheNewIntentsNamingItOnly() {
        put("k8s:shop/Segment/admins", """
                apiVersion: septa.dev/v1alpha1
                kind: Segment
                metadata: {name: admins, namespace: shop}
                spec:
                  selector: {matchExpressions: [{key: app, operator: Near, values: [x]}]}
                """);
        put("k8s:shop/Intent/admins-never-pay", text(DENY).replace("storefront-never-pays", "admins-never-pay").replace("segment: storefront", "segment: admins"));
        CompiledMesh mesh = compileOk();
        assertThat(compilation.verdicts().get("k8s:shop/Segment/admins").inForce()).isEqualTo(InForce.NONE);
        var intent = compilation.verdicts().get("k8s:shop/Intent/admins-never-pay");
        assertThat(intent.inForce()).isEqualTo(InForce.NONE);
        assertThat(intent.message()).contains("admins").contains("does not exist");
        assertThat(new Checker(mesh).check(STOREFRONT_PAYS)).hasToString("DENY shop/storefront-never-pays");
    }

    @Test
    void aDeletedSegmentThatAnIntentInForceNamesIsKeptUntilTheIntentLetsGo() {
        objects.remove("k8s:shop/Segment/payments");
        CompiledMesh mesh = compileOk();
        assertThat(new Checker(mesh).check(STOREFRONT_PAYS)).hasToString("DENY shop/storefront-never-pays");
        assertThat(lastResult.diagnostics()).anySatisfy(d -> assertThat(d.toString())
                .startsWith("k8s:shop/Segment/payments:").contains("deleted, but kept in force"));

        // Once no intent names it, the deletion takes effect.
        objects.remove(DENY);
        objects.remove("k8s:shop/Intent/checkout-may-charge");
        assertThat(compileOk().mesh().segments()).noneSatisfy(s -> assertThat(s.ref().toString()).isEqualTo("shop/payments"));
        assertThat(lastResult.diagnostics()).isEmpty();
    }

    @Test
    void aBrokenMeshConfigKeepsItsLastValidDefaultAction() {
        String config = "k8s:MeshConfig/mesh";
        put(config, text(config).replace("defaultAction: Deny", "defaultAction: Maybe"));
        Checker checker = new Checker(compileOk());
        assertThat(checker.check(new Query("shop/payments-1", "shop/storefront-1", 8080, "POST", "/x"))).hasToString("DENY default");
        assertThat(compilation.verdicts().get(config).inForce()).isEqualTo(InForce.LAST_VALID);
    }

    @Test
    void aSecondMeshConfigIsSetAsideAndTheFirstStays() {
        put("k8s:MeshConfig/zz-open", text("k8s:MeshConfig/mesh").replace("name: mesh", "name: zz-open").replace("defaultAction: Deny", "defaultAction: Allow"));
        Checker checker = new Checker(compileOk());
        assertThat(checker.check(new Query("shop/payments-1", "shop/storefront-1", 8080, "POST", "/x"))).hasToString("DENY default");
        assertThat(compilation.verdicts().get("k8s:MeshConfig/zz-open").message()).contains("more than one MeshConfig");
    }

    // --- helpers

    CompileResult lastResult;

    private CompiledMesh compileOk() {
        lastResult = compilation.compile(List.copyOf(objects.values()));
        assertThat(lastResult.diagnostics()).filteredOn(Diagnostic::isError).isEmpty();
        return lastResult.mesh().orElseThrow();
    }

    private void put(String name, String text) {
        objects.put(name, new InputFile(name, text));
    }

    private String text(String name) {
        return objects.get(name).text();
    }

    /** The example's documents, one input each, named as Kubernetes mode names them (pods for workloads). */
    static Map<String, InputFile> shopObjects() throws Exception {
        Map<String, InputFile> out = new TreeMap<>();
        List<Path> files = new ArrayList<>();
        try (var list = Files.list(SHOP.resolve("intents"))) {
            list.sorted().forEach(files::add);
        }
        files.add(SHOP.resolve("inventory.yaml"));
        for (Path file : files) {
            try (var parser = YAML.getFactory().createParser(Files.readString(file))) {
                var docs = YAML.readValues(parser, JsonNode.class);
                while (docs.hasNext()) {
                    JsonNode doc = docs.next();
                    if (doc == null || doc.isEmpty()) {
                        continue;
                    }
                    String kind = doc.path("kind").asText();
                    String ns = doc.path("metadata").path("namespace").asText("");
                    String name = KubernetesObjectRenderer.fileName(ns, kind.equals("Workload") ? "Pod" : kind,
                            doc.path("metadata").path("name").asText());
                    out.put(name, new InputFile(name, YAML.writeValueAsString(doc)));
                }
            }
        }
        return out;
    }
}
