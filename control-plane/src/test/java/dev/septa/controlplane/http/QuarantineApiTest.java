package dev.septa.controlplane.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.septa.cli.SeptaCli;
import dev.septa.controlplane.ControlPlane;
import dev.septa.controlplane.quarantine.QuarantineListener;
import dev.septa.controlplane.support.ShopFixture;
import dev.septa.policy.check.Checker;
import dev.septa.policy.check.Query;
import dev.septa.policy.compile.PolicyCompiler;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The quarantine API and {@code septa quarantine} against a real control plane (local mode, loopback): changes need
 * the HTTP token; bad input is one line and exit 2; an order is enforced (the mesh in force carries it, septa check on
 * it says DENY quarantine:<reason>), persisted, listed in status, kept across a restart and released.
 */
class QuarantineApiTest {
    Path dir;
    ControlPlane cp;
    final List<String> events = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        if (cp != null) {
            cp.close();
        }
    }

    dev.septa.controlplane.ControlPlaneOptions options;

    void start() throws Exception {
        if (options == null) {
            options = ShopFixture.options(dir).build(); // copies the shop once; a restart reuses the same files and state
        }
        cp = ControlPlane.start(options);
        cp.core().onQuarantineChange(new QuarantineListener() {
            @Override
            public void quarantined(Event e) {
                events.add("quarantined " + e.workload() + " " + e.reason() + " restored=" + e.restored());
            }

            @Override
            public void released(Event e) {
                events.add("released " + e.workload());
            }
        });
        await().atMost(Duration.ofSeconds(60)).until(() -> cp.core().meshState().mesh().isPresent());
    }

    record Run(int code, String out, String err) { }

    Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--server", "http://127.0.0.1:" + cp.httpPort(), "--token-file", dir.resolve("state/http-token").toString()));
        int code = SeptaCli.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(all.toArray(String[]::new));
        return new Run(code, out.toString(), err.toString());
    }

    HttpResponse<String> http(String method, String path, String token) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cp.httpPort() + path))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            r.header("Authorization", "Bearer " + token);
        }
        return HttpClient.newHttpClient().send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    String checkInForce(String from, String to, int port) {
        var compiled = PolicyCompiler.compile(cp.core().meshState().mesh().orElseThrow()).mesh().orElseThrow();
        return new Checker(compiled).check(new Query(from, to, port, "POST", "/shop.Payments/Charge")).toString();
    }

    @Test
    void quarantineIsTokenGuardedValidatedEnforcedPersistedAndReleased() throws Exception {
        dir = Files.createTempDirectory("septa-quarantine-api");
        start();
        String token = Files.readString(dir.resolve("state/http-token")).strip();

        assertThat(http("POST", "/api/quarantines/shop/checkout-1", null).statusCode()).isEqualTo(401);
        assertThat(http("DELETE", "/api/quarantines/shop/checkout-1", null).statusCode()).isEqualTo(401);
        HttpResponse<String> tab = http("POST", "/api/quarantines/shop/checkout-1?reason=a%09b", token);
        assertThat(tab.statusCode()).isEqualTo(400);
        assertThat(tab.body()).isEqualTo("invalid reason: it must be printable ASCII (letters, digits, spaces, punctuation),"
                + " found character U+0009 at 2");
        assertThat(http("POST", "/api/quarantines/Shop/x_1", token).statusCode()).isEqualTo(400);

        Run bad = cli("quarantine", "checkout-1");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err().strip()).isEqualTo("septa quarantine: invalid workload 'checkout-1': write NAMESPACE/NAME in lowercase"
                + " letters, digits and '-', such as shop/checkout-1");
        Run unknown = cli("quarantine", "shop/checkout-9");
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.err()).contains("unknown workload 'shop/checkout-9'", "did you mean 'shop/checkout-1'?");
        Run segment = cli("quarantine", "shop/checkout-1", "--allow-from", "forensix");
        assertThat(segment.code()).isEqualTo(2);
        assertThat(segment.err()).contains("unknown forensics segment 'shop/forensix'");

        assertThat(checkInForce("shop/checkout-1", "shop/payments-1", 8443)).isEqualTo("ALLOW shop/checkout-may-charge");
        Run ok = cli("quarantine", "shop/checkout-1", "--reason", "IR-9 \"odd\" traffic", "--allow-from", "payments");
        assertThat(ok.code()).as(ok.err()).isZero();
        assertThat(ok.out()).contains("quarantined shop/checkout-1 (reason: IR-9 \"odd\" traffic, forensics: payments), in force after");
        assertThat(checkInForce("shop/checkout-1", "shop/payments-1", 8443)).isEqualTo("DENY quarantine:IR-9 \"odd\" traffic");
        assertThat(checkInForce("shop/payments-1", "shop/checkout-1", 8443)).isEqualTo("ALLOW quarantine-forensics:shop/payments");
        assertThat(cli("quarantine", "--list").out()).contains("quarantines: 1", "shop/checkout-1", "yes", "shop/payments", "IR-9");
        assertThat(cli("status").out()).contains("quarantines: 1", "shop/checkout-1");
        assertThat(Files.readString(dir.resolve("state/quarantines.yaml"))).contains("kind: Quarantine", "workload: checkout-1",
                "reason: \"IR-9 \\\"odd\\\" traffic\"", "allowFrom: shop/payments");
        assertThat(events).containsExactly("quarantined shop/checkout-1 IR-9 \"odd\" traffic restored=false");

        cp.close();
        cp = null;
        events.clear();
        start();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(checkInForce("shop/checkout-1", "shop/payments-1", 8443)).isEqualTo("DENY quarantine:IR-9 \"odd\" traffic"));
        assertThat(events).containsExactly("quarantined shop/checkout-1 IR-9 \"odd\" traffic restored=true");
        assertThat(cp.core().quarantineViews()).singleElement().satisfies(v -> assertThat(v.since()).isNotNull());

        Run released = cli("quarantine", "--release", "shop/checkout-1");
        assertThat(released.code()).as(released.err()).isZero();
        assertThat(released.out()).contains("released shop/checkout-1 (in force after");
        assertThat(checkInForce("shop/checkout-1", "shop/payments-1", 8443)).isEqualTo("ALLOW shop/checkout-may-charge");
        assertThat(events).last().isEqualTo("released shop/checkout-1");
        Run again = cli("quarantine", "--release", "shop/checkout-1");
        assertThat(again.code()).isEqualTo(2);
        assertThat(again.err()).contains("'shop/checkout-1' is not quarantined");

        // On the audit trail: the order, the quarantine found in force after the restart, and the release.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                java.nio.file.Files.readString(dir.resolve("state/audit/audit.log")).lines()
                        .filter(l -> l.contains("\"workload\":\"shop/checkout-1\"")).map(l -> l.replaceAll(".*\"kind\":\"(\\w+)\".*\"actor\":\"([^\"]*)\".*", "$1 $2")))
                .containsExactly("quarantine " + dir.resolve("state/quarantines.yaml"),
                        "quarantine " + dir.resolve("state/quarantines.yaml") + " (in force at start)",
                        "release " + dir.resolve("state/quarantines.yaml")));
    }
}
