package dev.septa.cli;

import dev.septa.controlplane.support.SeptaRun;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code septa check} end to end on the bundled shop example: real parser, real compiler, real evaluator. */
class CheckCommandTest {
    static final String SHOP = Path.of("..", "examples", "shop").toString();


    static SeptaRun run(String... args) {
        return SeptaRun.of(args);
    }

    static SeptaRun check(String... args) {
        var all = new ArrayList<>(List.of("check", "-f", SHOP));
        all.addAll(List.of(args));
        return run(all.toArray(String[]::new));
    }

    @Test
    void allowNamesTheIntentAndExitsZero() {
        SeptaRun r = check("--from", "shop/checkout-1", "--to", "shop/payments-1", "--port", "8443",
                "--method", "POST", "--path", "/shop.Payments/Charge");
        assertThat(r.out()).isEqualTo("ALLOW shop/checkout-may-charge\n");
        assertThat(r.exit()).isZero();
    }

    /** Issue 11: Allow {@code /*} plus Deny {@code /admin/*}; every spelling of /admin/x is what Envoy's RBAC sees. */
    @Test
    void pathsAreNormalizedAsEnvoyDoesBeforeTheyAreMatched(@TempDir Path dir) throws Exception {
        String head = "apiVersion: septa.dev/v1alpha1\n";
        Files.writeString(dir.resolve("mesh.yaml"), String.join("---\n", List.of(
                head + "kind: Workload\nmetadata: {name: web-1, namespace: shop, labels: {app: web}}\n"
                        + "spec: {serviceAccount: web, address: 127.0.9.1}\n",
                head + "kind: Workload\nmetadata: {name: api-1, namespace: shop, labels: {app: api}}\n"
                        + "spec: {serviceAccount: api, address: 127.0.9.3, ports: [{port: 8080, protocol: HTTP}]}\n",
                head + "kind: Segment\nmetadata: {name: web, namespace: shop}\nspec: {selector: {matchLabels: {app: web}}}\n",
                head + "kind: Segment\nmetadata: {name: api, namespace: shop}\nspec: {selector: {matchLabels: {app: api}}}\n",
                head + "kind: Intent\nmetadata: {name: web-to-api, namespace: shop}\nspec: {action: Allow, from: [{segment: web}],"
                        + " to: {segment: api, ports: [{port: 8080, http: {paths: [\"/*\"]}}]}}\n",
                head + "kind: Intent\nmetadata: {name: no-admin, namespace: shop}\nspec: {action: Deny, from: [{segment: web}],"
                        + " to: {segment: api, ports: [{port: 8080, http: {paths: [\"/admin/*\"]}}]}}\n")));
        for (String path : List.of("/admin/x", "//admin/x", "/public/../admin/x", "/./admin/x", "/%61dmin/x")) {
            SeptaRun r = run("check", "-f", dir.toString(), "--from", "shop/web-1", "--to", "shop/api-1", "--port", "8080",
                    "--method", "GET", "--path", path);
            assertThat(r.out()).as(path).isEqualTo("DENY shop/no-admin\n");
            assertThat(r.exit()).as(path).isEqualTo(1);
        }
        SeptaRun grpc = run("check", "-f", dir.toString(), "--from", "shop/web-1", "--to", "shop/api-1", "--port", "8080",
                "--method", "GET", "--path", "//admin/x", "--dialect", "grpc");
        assertThat(grpc.out()).as("grpc-java matches the path as sent").isEqualTo("ALLOW shop/web-to-api\n");
    }

    @Test
    void denyNamesTheDenyIntentAndExitsOne() {
        SeptaRun r = check("--from", "shop/storefront-1", "--to", "shop/payments-1", "--port", "8443",
                "--method", "POST", "--path", "/shop.Payments/Charge");
        assertThat(r.out()).isEqualTo("DENY shop/storefront-never-pays\n");
        assertThat(r.exit()).isEqualTo(1);
    }

    @Test
    void unknownMethodAndPathMatchOnlyUnconstrainedRules() {
        SeptaRun r = check("--from", "shop/checkout-1", "--to", "shop/payments-1", "--port", "8443");
        assertThat(r.out()).isEqualTo("DENY default\n");
        assertThat(r.exit()).isEqualTo(1);
    }

    @Test
    void dryRunDenyIsReportedAsANote() {
        SeptaRun r = check("--from", "shop/checkout-1", "--to", "shop/catalog-1", "--port", "9090",
                "--method", "POST", "--path", "/shop.Catalog/UpdateItem");
        assertThat(r.out()).isEqualTo("ALLOW shop/checkout-may-read-catalog\n"
                + "would be denied by shop/lock-catalog-writes (DryRun)\n");
        assertThat(r.exit()).isZero();
        SeptaRun json = check("--from", "shop/checkout-1", "--to", "shop/catalog-1", "--port", "9090",
                "--method", "POST", "--path", "/shop.Catalog/UpdateItem", "-o", "json");
        assertThat(json.out()).isEqualTo("{\"from\":\"shop/checkout-1\",\"to\":\"shop/catalog-1\",\"port\":9090,"
                + "\"method\":\"POST\",\"path\":\"/shop.Catalog/UpdateItem\",\"decision\":\"ALLOW\","
                + "\"by\":\"shop/checkout-may-read-catalog\",\"wouldDenyBy\":\"shop/lock-catalog-writes\"}\n");
    }

    @Test
    void namespaceSourceAndGrpcDialectAgree() {
        for (String dialect : List.of("envoy", "grpc")) {
            SeptaRun r = check("--from", "monitoring/prometheus-1", "--to", "shop/payments-1", "--port", "8443",
                    "--method", "POST", "--path", "/grpc.health.v1.Health/Check", "--dialect", dialect);
            assertThat(r.out()).as(dialect).isEqualTo("ALLOW shop/monitoring-may-probe\n");
        }
    }

    @Test
    void unknownWorkloadIsBadInput() {
        SeptaRun r = check("--from", "shop/nope", "--to", "shop/payments-1", "--port", "8443");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains("unknown from workload 'shop/nope'").contains("shop/checkout-1");
    }

    @Test
    void missingArgumentsAreBadInput() {
        SeptaRun r = check("--from", "shop/checkout-1");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("give --from NS/NAME --to NS/NAME --port P");
        assertThat(run("check", "--from", "a/b").exit()).isEqualTo(2);
    }

    @Test
    void batchAnswersEveryQueryInOrder(@TempDir Path dir) throws Exception {
        Path q = dir.resolve("q.jsonl");
        Files.writeString(q, """
                {"from":"shop/checkout-1","to":"shop/payments-1","port":8443,"method":"POST","path":"/shop.Payments/Charge"}
                {"from":"shop/storefront-1","to":"shop/payments-1","port":8443}

                {"from":"shop/checkout-1","to":"shop/catalog-1","port":9090,"path":"/shop.Catalog/UpdateItem"}
                """);
        SeptaRun r = check("--queries", q.toString());
        assertThat(r.exit()).isZero();
        assertThat(r.out()).isEqualTo("""
                {"from":"shop/checkout-1","to":"shop/payments-1","port":8443,"method":"POST","path":"/shop.Payments/Charge","decision":"ALLOW","by":"shop/checkout-may-charge"}
                {"from":"shop/storefront-1","to":"shop/payments-1","port":8443,"decision":"DENY","by":"shop/storefront-never-pays"}
                {"from":"shop/checkout-1","to":"shop/catalog-1","port":9090,"path":"/shop.Catalog/UpdateItem","decision":"ALLOW","by":"shop/checkout-may-read-catalog","wouldDenyBy":"shop/lock-catalog-writes"}
                """);
    }

    @Test
    void batchReadsStdin() {
        InputStream saved = System.in;
        try {
            System.setIn(new ByteArrayInputStream(
                    "{\"from\":\"shop/checkout-1\",\"to\":\"shop/payments-1\",\"port\":8443}\n"
                            .getBytes(StandardCharsets.UTF_8)));
            SeptaRun r = check("--queries", "-");
            assertThat(r.exit()).isZero();
            assertThat(r.out()).isEqualTo("{\"from\":\"shop/checkout-1\",\"to\":\"shop/payments-1\",\"port\":8443,"
                    + "\"decision\":\"DENY\",\"by\":\"default\"}\n");
        } finally {
            System.setIn(saved);
        }
    }

    @Test
    void malformedBatchLinesAnswerNothing(@TempDir Path dir) throws Exception {
        Path q = dir.resolve("q.jsonl");
        Files.writeString(q, """
                {"from":"shop/checkout-1","to":"shop/payments-1","port":8443}
                {"from":"shop/checkout-1","to":"shop/payments-1"}
                {"from":"shop/ghost","to":"shop/payments-1","port":8443}
                """);
        SeptaRun r = check("--queries", q.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains(q + ":2: missing 'port' (a number from 1 to 65535)\n")
                .contains(q + ":3: unknown from workload 'shop/ghost' (workloads in shop: shop/catalog-1, ")
                .doesNotContain(":1:");
    }

    @Test
    void everyBadLineIsNamedWithWhatWouldBeRight(@TempDir Path dir) throws Exception {
        Path q = dir.resolve("bad.jsonl");
        Files.writeString(q, """
                {"from":"shop/checkout-1","to":"shop/payments-1","port":8443}
                {"from":"shop/checkout-1","to":"shop/payments-1","port":8443
                {"from":"shop/checkout-1","to":"shop/paymnts-1","port":8443}
                {"from":"shop/checkout-1","to":"shop/payments-1"}
                {"from":"shop/checkout-1","to":"shop/payments-1","port":"8443"}
                {"from":"shop/checkout-1","to":"shop/payments-1","port":8443,"method":"post"}
                """);
        SeptaRun r = check("--queries", q.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        String example = "{\"from\":\"ns/name\",\"to\":\"ns/name\",\"port\":8443,\"method\":\"POST\",\"path\":\"/x\"}";
        assertThat(r.err().lines().filter(l -> l.startsWith(q.toString()))).containsExactly(
                q + ":2: not valid JSON: the line ends inside the object (a missing '}' or '\"'?); expected one object per "
                        + "line, such as " + example,
                q + ":3: unknown to workload 'shop/paymnts-1'; did you mean 'shop/payments-1'?",
                q + ":4: missing 'port' (a number from 1 to 65535)",
                q + ":5: 'port' must be a number, not a string: write \"port\":8443 instead of \"port\":\"8443\"");
        assertThat(r.err()).endsWith("septa check: no query answered: fix the lines above\n");
    }

    @Test
    void compileErrorsArePrintedAndExitTwo(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, """
                apiVersion: septa.dev/v1alpha1
                kind: Segmnet
                metadata: {name: x, namespace: shop}
                """);
        SeptaRun r = run("check", "-f", bad.toString(), "--from", "a/b", "--to", "a/c", "--port", "1");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains(bad + ":2:").contains("error").contains("does not compile");
        assertThat(run("check", "-f", dir.resolve("missing").toString(), "--queries", "-").err())
                .contains("no such file or directory");
        SeptaRun dirAsQueries = check("--queries", dir.toString());
        assertThat(dirAsQueries.exit()).isEqualTo(2);
        assertThat(dirAsQueries.err()).contains(dir + ": cannot read");
    }
}
