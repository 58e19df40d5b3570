package dev.septa.controlplane.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.septa.cli.SeptaCli;
import dev.septa.controlplane.ControlPlane;
import dev.septa.controlplane.support.ShopFixture;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The HTTP API on its default loopback address, called as an attacker on the same machine would: a browser page
 * whose DNS name was re-bound to 127.0.0.1 (its own name as Host and Origin), a page of another site POSTing to
 * 127.0.0.1, any local user. Requests are written on raw sockets so Host and Origin are exactly what they say.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LocalHttpAccessTest {
    Path dir;
    ControlPlane cp;
    String token;

    record Reply(int status, Map<String, String> headers, String body) {}

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("septa-local-http");
        cp = ControlPlane.start(ShopFixture.options(dir).build());
        token = Files.readString(dir.resolve("state").resolve("http-token")).strip();
    }

    @AfterAll
    void stop() {
        if (cp != null) {
            cp.close();
        }
    }

    Reply call(String method, String path, String host, String... headers) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", cp.httpPort())) {
            socket.setSoTimeout(30_000);
            StringBuilder request = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n");
            for (String h : headers) {
                request.append(h).append("\r\n");
            }
            request.append("Content-Length: 0\r\nConnection: close\r\n\r\n");
            OutputStream out = socket.getOutputStream();
            out.write(request.toString().getBytes(StandardCharsets.US_ASCII));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            int status = Integer.parseInt(in.readLine().split(" ")[1]);
            Map<String, String> replyHeaders = new LinkedHashMap<>();
            for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
                int colon = line.indexOf(':');
                replyHeaders.put(line.substring(0, colon).toLowerCase(Locale.ROOT), line.substring(colon + 1).strip());
            }
            StringBuilder body = new StringBuilder();
            char[] buffer = new char[8192];
            for (int n = in.read(buffer); n > 0 && body.length() < 4096; n = in.read(buffer)) {
                body.append(buffer, 0, n);
            }
            return new Reply(status, replyHeaders, body.toString());
        }
    }

    String self() {
        return "127.0.0.1:" + cp.httpPort();
    }

    @Test
    void aPageThatRebindsItsNameToLoopbackIsRefused() throws Exception {
        int port = cp.httpPort();
        for (String host : List.of("127.0.0.1:" + port, "localhost:" + port, "[::1]:" + port, "LOCALHOST")) {
            assertThat(call("GET", "/api/status", host).status()).as(host).isEqualTo(200);
        }
        for (String host : List.of("rebound.example:" + port, "127.0.0.1.nip.io:" + port, "127.0.0.2:" + port)) {
            Reply refused = call("GET", "/api/status", host);
            assertThat(refused.status()).as(host).isEqualTo(401);
            assertThat(refused.body()).doesNotContain(token);
        }
        // A foreign Origin: Micronaut's own localhost guard may answer 403 before Septa's filter answers 401.
        assertThat(call("GET", "/api/graph", self(), "Origin: http://rebound.example:" + port).status()).isIn(401, 403);
        assertThat(call("GET", "/api/graph", self(), "Origin: http://localhost:" + port).status()).isEqualTo(200);
        assertThat(call("GET", "/health", "rebound.example").status()).as("probes need nothing").isEqualTo(200);
    }

    @Test
    void stateChangingRequestsNeedTheTokenFromEveryClient() throws Exception {
        Reply crossSite = call("POST", "/api/ca/rotate", self(), "Origin: http://rebound.example");
        assertThat(crossSite.status()).isIn(401, 403);
        // The same page after re-binding its name: its own name as Host, no Origin on a same-origin GET.
        assertThat(call("POST", "/api/ca/rotate", "rebound.example").status()).isEqualTo(401);
        Reply localUser = call("POST", "/api/ca/rotate", self());
        assertThat(localUser.status()).isEqualTo(401);
        assertThat(localUser.body()).contains("needs its access token from every client").doesNotContain(token);
        assertThat(localUser.headers().get("septa-token-file"))
                .isEqualTo(dir.resolve("state").resolve("http-token").toAbsolutePath().toString());
        assertThat(call("POST", "/api/ca/rotate", self(), "Cookie: septa-token=" + token).status())
                .as("a cookie rides along on other pages' requests: not enough").isEqualTo(401);
        assertThat(call("POST", "/api/ca/rotate?token=" + token, self()).status()).isEqualTo(401);
        assertThat(cp.core().rootRotator().orElseThrow().status().stage()).isEqualTo("idle");

        // The CLI, pointed at no token file, follows the control plane's answer to the file its own user can read.
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cli = SeptaCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute("ca", "rotate", "--server", "http://" + self(), "--token-file", dir.resolve("nowhere").toString());
        assertThat(exit).as(err.toString()).isZero();
        assertThat(out.toString()).contains("root rotation requested");
        await().atMost(Duration.ofSeconds(30))
                .until(() -> !cp.core().rootRotator().orElseThrow().status().stage().equals("idle"));
    }

    @Test
    void managementEndpointsSeptaDoesNotUseAreOff() throws Exception {
        String bearer = "Authorization: Bearer " + token;
        for (String path : List.of("/threaddump", "/routes", "/beans", "/loggers", "/info", "/env", "/caches", "/metrics")) {
            assertThat(call("GET", path, self(), bearer).status()).as(path).isEqualTo(404);
        }
        for (String path : List.of("/refresh", "/stop", "/loggers/ROOT")) {
            assertThat(call("POST", path, self(), bearer).status()).as("POST " + path).isIn(404, 405);
        }
        assertThat(call("GET", "/health", self()).status()).isEqualTo(200);
        assertThat(call("GET", "/prometheus", self()).status()).isEqualTo(200);
    }
}
