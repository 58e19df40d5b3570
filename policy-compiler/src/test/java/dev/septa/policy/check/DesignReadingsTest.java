package dev.septa.policy.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.parse.InputFile;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The readings docs/check.md writes down where the decision rule of docs/architecture.md is silent, one hand-worked case each, from YAML as a user
 * writes it: the compiled RBAC (what {@code septa check} answers) and the reference oracle must both give the
 * answer worked out here.
 */
class DesignReadingsTest {
    static final String HEAD = "apiVersion: septa.dev/v1alpha1\n";
    static final String INVENTORY = """
            kind: Workload
            metadata: {name: web-1, namespace: shop, labels: {app: web}}
            spec: {serviceAccount: web, address: 127.0.9.1}
            ---
            kind: Workload
            metadata: {name: batch-1, namespace: shop, labels: {app: batch}}
            spec: {serviceAccount: web, address: 127.0.9.2}
            ---
            kind: Workload
            metadata: {name: api-1, namespace: shop, labels: {app: api}}
            spec: {serviceAccount: api, address: 127.0.9.3, ports: [{port: 8080, protocol: HTTP}, {port: 5432, protocol: TCP}]}
            ---
            kind: Workload
            metadata: {name: prom-1, namespace: ops, labels: {app: prom}}
            spec: {serviceAccount: prom, address: 127.0.9.4}
            ---
            # Its port has no protocol written: TCP, unless an intent aimed at it says HTTP or GRPC.
            kind: Workload
            metadata: {name: legacy-1, namespace: shop, labels: {app: legacy}}
            spec: {serviceAccount: legacy, address: 127.0.9.5, ports: [{port: 8080}, {port: 5432}]}
            ---
            kind: Segment
            metadata: {name: legacy, namespace: shop}
            spec: {selector: {matchLabels: {app: legacy}}}
            ---
            kind: Segment
            metadata: {name: web, namespace: shop}
            spec: {selector: {matchLabels: {app: web}}}
            ---
            kind: Segment
            metadata: {name: api, namespace: shop}
            spec: {selector: {matchExpressions: [{key: app, operator: In, values: [api]}]}}
            """;

    static final String INTENTS = """
            # A port listed twice: the entries are alternatives. No protocol: the workload's.
            kind: Intent
            metadata: {name: web-to-api, namespace: shop}
            spec:
              action: Allow
              from: [{segment: web}]
              to:
                segment: api
                ports:
                  - {port: 8080, http: {methods: [GET]}}
                  - {port: 8080, http: {methods: [POST], paths: ["/orders/*"]}}
            ---
            # No ports: every port, declared or not.
            kind: Intent
            metadata: {name: ops-all, namespace: shop}
            spec: {action: Allow, from: [{namespace: ops}], to: {segment: api}}
            ---
            # HTTP conditions on a port api-1 declares TCP: a Deny covers the whole port (never loosen).
            kind: Intent
            metadata: {name: no-db-writes, namespace: shop}
            spec:
              action: Deny
              from: [{segment: web}]
              to: {segment: api, ports: [{port: 5432, protocol: HTTP, http: {methods: [POST]}}]}
            ---
            kind: Intent
            metadata: {name: dry-no-db, namespace: shop}
            spec: {action: Deny, mode: DryRun, from: [{segment: web}], to: {segment: api, ports: [{port: 5432}]}}
            ---
            # Port 6000 is declared by no workload; one intent names it TCP, another HTTP: the chain is HTTP.
            kind: Intent
            metadata: {name: a-tcp-6000, namespace: shop}
            spec: {action: Deny, mode: DryRun, from: [{namespace: ops}], to: {segment: api, ports: [{port: 6000, protocol: TCP}]}}
            ---
            kind: Intent
            metadata: {name: web-gets-legacy, namespace: shop}
            spec:
              action: Allow
              from: [{segment: web}]
              to: {segment: legacy, ports: [{port: 8080, protocol: HTTP, http: {methods: [GET]}}, {port: 5432}]}
            ---
            kind: Intent
            metadata: {name: b-http-6000, namespace: shop}
            spec:
              action: Allow
              from: [{segment: web}]
              to: {segment: api, ports: [{port: 6000, protocol: HTTP, http: {methods: [GET]}}]}
            """;

    static Decision allow(String by) {
        return new Decision(Decision.Verdict.ALLOW, by, Optional.empty());
    }

    static Decision deny(String by) {
        return new Decision(Decision.Verdict.DENY, by, Optional.empty());
    }

    static CompiledMesh compile(String... docs) {
        var yaml = new StringBuilder();
        for (String d : docs) {
            for (String doc : d.split("(?m)^---\n")) {
                yaml.append("---\n").append(HEAD).append(doc);
            }
        }
        CompileResult r = PolicyCompiler.compile(List.of(new InputFile("readings.yaml", yaml.toString())));
        assertThat(r.hasErrors()).as("%s", r.diagnostics()).isFalse();
        return r.mesh().orElseThrow();
    }

    static void expect(CompiledMesh mesh, Query q, Decision expected) {
        assertThat(new Checker(mesh).check(q)).as("septa check %s", q).isEqualTo(expected);
        assertThat(new ReferenceDecision(mesh.mesh()).decide(q)).as("reference %s", q).isEqualTo(expected);
    }

    @Test
    void portsListedTwiceProtocolsLeftOutSharedIdentitiesAndFragments() {
        CompiledMesh mesh = compile(INVENTORY, INTENTS);
        expect(mesh, new Query("shop/web-1", "shop/api-1", 8080, "GET", "/anything"), allow("shop/web-to-api"));
        expect(mesh, new Query("shop/web-1", "shop/api-1", 8080, "POST", "/orders/7"), allow("shop/web-to-api"));
        expect(mesh, new Query("shop/web-1", "shop/api-1", 8080, "POST", "/orders/7#top"), allow("shop/web-to-api"));
        expect(mesh, new Query("shop/web-1", "shop/api-1", 8080, "POST", "/carts/7"), deny("default"));
        // An unknown method matches only entries without a method condition: neither entry here.
        expect(mesh, Query.of("shop/web-1", "shop/api-1", 8080), deny("default"));
        // batch-1 runs as web's service account: the web segment's rule admits it (sources are principals).
        expect(mesh, new Query("shop/batch-1", "shop/api-1", 8080, "GET", "/"), allow("shop/web-to-api"));
        expect(mesh, Query.of("ops/prom-1", "shop/api-1", 9999), allow("shop/ops-all"));
        expect(mesh, Query.of("shop/web-1", "shop/api-1", 9999), deny("default"));
    }

    @Test
    void httpConditionsOnATcpPortAndProtocolsOfUndeclaredPorts() {
        CompiledMesh mesh = compile(INVENTORY, INTENTS);
        // The Deny's POST condition cannot be seen on TCP: it denies every connection; the DryRun Deny is reported too.
        expect(mesh, new Query("shop/web-1", "shop/api-1", 5432, "GET", "/"),
                new Decision(Decision.Verdict.DENY, "shop/no-db-writes", Optional.of("shop/dry-no-db")));
        expect(mesh, new Query("shop/web-1", "shop/api-1", 6000, "GET", "/"), allow("shop/b-http-6000"));
        expect(mesh, new Query("shop/web-1", "shop/api-1", 6000, "POST", "/"), deny("default"));
        expect(mesh, Query.of("ops/prom-1", "shop/api-1", 6000),
                new Decision(Decision.Verdict.ALLOW, "shop/ops-all", Optional.of("shop/a-tcp-6000")));
        // legacy-1's 8080 has no protocol written; the intent says HTTP, so the method condition is enforced.
        expect(mesh, new Query("shop/web-1", "shop/legacy-1", 8080, "GET", "/"), allow("shop/web-gets-legacy"));
        expect(mesh, new Query("shop/web-1", "shop/legacy-1", 8080, "POST", "/"), deny("default"));
        expect(mesh, new Query("shop/web-1", "shop/legacy-1", 5432, "POST", "/"), allow("shop/web-gets-legacy"));
    }

    @Test
    void defaultAllowIsClosedOnlyWhereAnEnforcingAllowTargets() {
        String intents = """
                kind: MeshConfig
                metadata: {name: mesh}
                spec: {defaultAction: Allow}
                ---
                # Targets api-1:8080 with a method condition: 8080 is closed to every other request.
                kind: Intent
                metadata: {name: web-gets, namespace: shop}
                spec: {action: Allow, from: [{segment: web}], to: {segment: api, ports: [{port: 8080, http: {methods: [GET]}}]}}
                ---
                # An HTTP-only Allow on a TCP port admits nothing there, and still closes the port.
                kind: Intent
                metadata: {name: web-db-http, namespace: shop}
                spec: {action: Allow, from: [{segment: web}], to: {segment: api, ports: [{port: 5432, protocol: HTTP, http: {paths: [/x]}}]}}
                ---
                # DryRun Allow intents do not close anything.
                kind: Intent
                metadata: {name: dry-web-all, namespace: shop}
                spec: {action: Allow, mode: DryRun, from: [{segment: web}], to: {segment: api, ports: [{port: 7000}]}}
                """;
        CompiledMesh mesh = compile(INVENTORY, intents);
        expect(mesh, new Query("shop/web-1", "shop/api-1", 8080, "GET", "/"), allow("shop/web-gets"));
        expect(mesh, new Query("shop/web-1", "shop/api-1", 8080, "POST", "/"), deny("default"));
        expect(mesh, new Query("ops/prom-1", "shop/api-1", 8080, "GET", "/"), deny("default"));
        expect(mesh, new Query("shop/web-1", "shop/api-1", 5432, "GET", "/x"), deny("default"));
        expect(mesh, Query.of("ops/prom-1", "shop/api-1", 7000), allow("default"));
        expect(mesh, Query.of("ops/prom-1", "shop/web-1", 8080), allow("default"));
    }
}
