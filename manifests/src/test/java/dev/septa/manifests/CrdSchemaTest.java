package dev.septa.manifests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.parse.InputFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CRDs' OpenAPI schemas, checked with a JSON-schema validator (networknt, draft 4, the base of OpenAPI 3.0's
 * schema object): the shop example validates; each broken variant fails the schema and the compiler's parser alike.
 */
class CrdSchemaTest {
    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_4);
    private static final Map<String, String> CRD_OF = Map.of(
            "Segment", "segments.septa.dev", "Intent", "intents.septa.dev", "MeshConfig", "meshconfigs.septa.dev",
            "Quarantine", "quarantines.septa.dev");

    static List<String> errors(JsonNode document) {
        Schema schema = REGISTRY.getSchema(Manifests.schema(CRD_OF.get(document.path("kind").asText())));
        return schema.validate(document).stream().map(e -> e.getInstanceLocation() + ": " + e.getMessage()).toList();
    }

    @Test
    void theShopExampleValidates() {
        int documents = 0;
        for (Path file : Manifests.shopFiles()) {
            for (JsonNode doc : Manifests.yaml(file)) {
                assertThat(errors(doc)).as(file + " " + doc.at("/metadata/name").asText()).isEmpty();
                documents++;
            }
        }
        assertThat(documents).isGreaterThan(10);
    }

    private static final String INTENT = """
            apiVersion: septa.dev/v1alpha1
            kind: Intent
            metadata: {name: t, namespace: shop}
            spec:
              action: Allow
              mode: Enforce
              from: [{segment: checkout}, {namespace: monitoring}]
              to:
                segment: payments
                ports: [{port: 8443, protocol: GRPC, http: {methods: [POST], paths: ["/shop.Payments/Charge", "/v1/refunds/*"]}}]
            """;
    private static final String SEGMENT = """
            apiVersion: septa.dev/v1alpha1
            kind: Segment
            metadata: {name: s, namespace: shop}
            spec:
              selector:
                matchLabels: {app: payments}
                matchExpressions: [{key: tier, operator: In, values: [backend]}]
              egress: [{namespace: web}, {service: ops/metrics}, {segment: checkout}]
            """;
    private static final String MESH = """
            apiVersion: septa.dev/v1alpha1
            kind: MeshConfig
            metadata: {name: mesh}
            spec: {trustDomain: cluster.local, defaultAction: Deny, mtls: Strict, certificateTTL: 1h30m}
            """;

    private static final String QUARANTINE = """
            apiVersion: septa.dev/v1alpha1
            kind: Quarantine
            metadata: {name: q, namespace: shop}
            spec: {workload: checkout-1, reason: "IR-7: beaconing", allowFrom: monitoring/checkout}
            """;

    @Test
    void theBaseDocumentsAreValidForBoth() {
        for (String text : List.of(INTENT, SEGMENT, MESH, QUARANTINE)) {
            assertThat(errors(Manifests.yaml(text).getFirst())).isEmpty();
            assertThat(parserErrors(text)).isEmpty();
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "bad action           | INTENT  | action: Allow                  | action: Permit",
            "no action            | INTENT  | action: Allow                  | ''",
            "bad mode             | INTENT  | mode: Enforce                  | mode: Audit",
            "bad protocol         | INTENT  | protocol: GRPC                 | protocol: UDP",
            "port above range     | INTENT  | port: 8443                     | port: 70000",
            "port zero            | INTENT  | port: 8443                     | port: 0",
            "port not a number    | INTENT  | port: 8443                     | port: https",
            "bad method           | INTENT  | methods: [POST]                | methods: [FETCH]",
            "star inside a path   | INTENT  | /v1/refunds/*                  | /v1/*/refunds",
            "relative path        | INTENT  | /shop.Payments/Charge          | shop.Payments/Charge",
            "space in a path      | INTENT  | /shop.Payments/Charge          | /shop Payments",
            "query in a path      | INTENT  | /shop.Payments/Charge          | /charge?x=1",
            "no sources           | INTENT  | from: [{segment: checkout}, {namespace: monitoring}] | from: []",
            "segment and namespace| INTENT  | {namespace: monitoring}        | {namespace: monitoring, segment: checkout}",
            "empty source         | INTENT  | {namespace: monitoring}        | {}",
            "bad segment name     | INTENT  | {segment: checkout}            | {segment: Check_Out}",
            "no target segment    | INTENT  | segment: payments              | ports: []",
            "bad operator         | SEGMENT | operator: In                   | operator: Like",
            "no selector          | SEGMENT | selector:                      | selektor:",
            "empty egress entry   | SEGMENT | {namespace: web}               | {}",
            "two egress kinds     | SEGMENT | {namespace: web}               | {namespace: web, service: cart}",
            "bad egress namespace | SEGMENT | {namespace: web}               | {namespace: Web}",
            "bad egress service   | SEGMENT | {service: ops/metrics}         | {service: a/b/c}",
            "bad egress segment   | SEGMENT | {segment: checkout}            | {segment: Check_Out}",
            "egress not a list    | SEGMENT | [{namespace: web}, {service: ops/metrics}, {segment: checkout}] | {namespace: web}",
            "bad mtls             | MESH    | mtls: Strict                   | mtls: Loose",
            "bad default action   | MESH    | defaultAction: Deny            | defaultAction: Block",
            "ttl in days          | MESH    | certificateTTL: 1h30m          | certificateTTL: 1d",
            "uppercase domain     | MESH    | trustDomain: cluster.local     | trustDomain: Cluster.Local",
            "no workload          | QUARANTINE | workload: checkout-1,       | ''",
            "bad workload         | QUARANTINE | workload: checkout-1        | workload: Checkout_1",
            "empty reason         | QUARANTINE | \"IR-7: beaconing\"         | \"\"",
            "reason with a tab    | QUARANTINE | \"IR-7: beaconing\"         | \"IR-7:\\tbeaconing\"",
            "reason ends in space | QUARANTINE | \"IR-7: beaconing\"         | \"IR-7 \"",
            "bad forensics        | QUARANTINE | allowFrom: monitoring/checkout | allowFrom: a/b/c",
    })
    void aBrokenDocumentFailsTheSchemaAndTheParser(String name, String base, String from, String to) {
        String original = switch (base) {
            case "INTENT" -> INTENT;
            case "SEGMENT" -> SEGMENT;
            case "QUARANTINE" -> QUARANTINE;
            default -> MESH;
        };
        assertThat(original).contains(from);
        String text = original.replace(from, to);
        assertThat(errors(Manifests.yaml(text).getFirst())).as("schema errors for: " + name).isNotEmpty();
        assertThat(parserErrors(text)).as("parser errors for: " + name).isNotEmpty();
    }

    /** The parser's errors for one document, next to the shop's segments so that references resolve. */
    static List<String> parserErrors(String text) {
        List<InputFile> inputs = new ArrayList<>();
        inputs.add(new InputFile("case.yaml", text));
        Manifests.shopFiles().stream().filter(p -> p.getFileName().toString().equals("segments.yaml")).map(Manifests::input).forEach(inputs::add);
        inputs.add(new InputFile("extra-segments.yaml", """
                apiVersion: septa.dev/v1alpha1
                kind: Segment
                metadata: {name: checkout, namespace: monitoring}
                spec: {selector: {}}
                """));
        return Manifests.parse(inputs).diagnostics().stream().filter(Diagnostic::isError).map(Diagnostic::toString).toList();
    }
}
