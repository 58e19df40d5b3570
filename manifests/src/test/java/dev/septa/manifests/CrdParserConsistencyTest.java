package dev.septa.manifests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every enum in the CRDs equals, in order, what the compiler's parser accepts, as the parser itself states it: a
 * value it rejects gets "(expected one of ...)" listing its accepted values. A value added to either side fails here.
 */
class CrdParserConsistencyTest {
    private static final Pattern EXPECTED = Pattern.compile("\\(expected one of ([^)]*)\\)");

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "Intent action        | intents.septa.dev    | /properties/spec/properties/action/enum | INTENT | action: Allow | action: Bogus",
            "Intent mode          | intents.septa.dev    | /properties/spec/properties/mode/enum | INTENT | mode: Enforce | mode: Bogus",
            "port protocol        | intents.septa.dev    | /properties/spec/properties/to/properties/ports/items/properties/protocol/enum | INTENT | protocol: GRPC | protocol: Bogus",
            "HTTP methods         | intents.septa.dev    | /properties/spec/properties/to/properties/ports/items/properties/http/properties/methods/items/enum | INTENT | methods: [POST] | methods: [BOGUS]",
            "selector operator    | segments.septa.dev   | /properties/spec/properties/selector/properties/matchExpressions/items/properties/operator/enum | SEGMENT | operator: In | operator: Bogus",
            "MeshConfig defaultAction | meshconfigs.septa.dev | /properties/spec/properties/defaultAction/enum | MESH | defaultAction: Deny | defaultAction: Bogus",
            "MeshConfig mtls      | meshconfigs.septa.dev | /properties/spec/properties/mtls/enum | MESH | mtls: Strict | mtls: Bogus",
    })
    void theCrdEnumIsWhatTheParserAccepts(String name, String crd, String pointer, String base, String from, String to) {
        JsonNode enumNode = Manifests.schema(crd).at(pointer);
        assertThat(enumNode.isArray()).as(pointer).isTrue();
        List<String> crdValues = new ArrayList<>();
        enumNode.forEach(v -> crdValues.add(v.asText()));

        String document = switch (base) {
            case "INTENT" -> INTENT;
            case "SEGMENT" -> SEGMENT;
            default -> MESH;
        };
        assertThat(document).contains(from);
        List<String> errors = CrdSchemaTest.parserErrors(document.replace(from, to));
        List<String> parserValues = errors.stream().map(EXPECTED::matcher).filter(Matcher::find)
                .map(m -> Arrays.asList(m.group(1).split(", "))).findFirst().orElseThrow(() -> new AssertionError("no list in " + errors));
        assertThat(crdValues).isEqualTo(parserValues);
    }

    private static final String INTENT = """
            apiVersion: septa.dev/v1alpha1
            kind: Intent
            metadata: {name: t, namespace: shop}
            spec:
              action: Allow
              mode: Enforce
              from: [{segment: checkout}]
              to:
                segment: payments
                ports: [{port: 8443, protocol: GRPC, http: {methods: [POST]}}]
            """;
    private static final String SEGMENT = """
            apiVersion: septa.dev/v1alpha1
            kind: Segment
            metadata: {name: s, namespace: shop}
            spec: {selector: {matchExpressions: [{key: tier, operator: In, values: [backend]}]}}
            """;
    private static final String MESH = """
            apiVersion: septa.dev/v1alpha1
            kind: MeshConfig
            metadata: {name: mesh}
            spec: {defaultAction: Deny, mtls: Strict}
            """;
}
