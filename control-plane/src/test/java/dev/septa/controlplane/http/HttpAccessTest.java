package dev.septa.controlplane.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.septa.cli.SeptaCli;
import dev.septa.controlplane.ControlPlane;
import dev.septa.controlplane.ControlPlaneOptions;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.CookieManager;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The HTTP API bound to every interface ({@code --http-address 0.0.0.0}) and called over this machine's own
 * network address, so the server sees a non-loopback client: nothing but {@code /health} without the token.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpAccessTest {
    static final Path SHOP = Path.of("..", "examples", "shop").toAbsolutePath().normalize();

    Path dir;
    ControlPlane cp;
    String lan;
    String token;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @BeforeAll
    void start() throws Exception {
        Optional<InetAddress> address = networkAddress();
        assumeTrue(address.isPresent(), "this machine has no non-loopback IPv4 address to call from");
        lan = address.get().getHostAddress();
        dir = Files.createTempDirectory("septa-http-access");
        cp = ControlPlane.start(ControlPlaneOptions.builder().intentsDir(SHOP.resolve("intents"))
                .inventoryFile(SHOP.resolve("inventory.yaml")).stateDir(dir.resolve("state"))
                .xdsHost("127.0.0.1").xdsPort(0).httpHost("0.0.0.0").httpPort(0).build());
        Path tokenFile = dir.resolve("state").resolve("http-token");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tokenFile))).isEqualTo("rw-------");
        token = Files.readString(tokenFile).strip();
        assertThat(token).hasSizeGreaterThanOrEqualTo(43);
    }

    @AfterAll
    void stop() {
        if (cp != null) {
            cp.close();
        }
    }

    HttpResponse<String> get(String host, String path, String authorization) throws Exception {
        var request = HttpRequest.newBuilder(URI.create("http://" + host + ":" + cp.httpPort() + path)).timeout(Duration.ofSeconds(30));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void fromTheNetworkEverythingButHealthNeedsTheToken() throws Exception {
        for (String path : new String[] {"/api/status", "/api/graph", "/graph", "/prometheus"}) {
            HttpResponse<String> anonymous = get(lan, path, null);
            assertThat(anonymous.statusCode()).as(path).isEqualTo(401);
            assertThat(anonymous.body()).contains("STATE-DIR/http-token").doesNotContain(token);
            assertThat(get(lan, path, "Bearer wrong-" + token).statusCode()).as(path).isEqualTo(401);
            assertThat(get(lan, path, "Bearer " + token).statusCode()).as(path).isEqualTo(200);
        }
        assertThat(get(lan, "/health", null).statusCode()).isEqualTo(200);
        var rotate = http.send(HttpRequest.newBuilder(URI.create("http://" + lan + ":" + cp.httpPort() + "/api/ca/rotate"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(rotate.statusCode()).as("an anonymous rotation request").isEqualTo(401);
        assertThat(cp.core().rootRotator().orElseThrow().status().stage()).isEqualTo("idle");
    }

    @Test
    void loopbackClientsNeedNoToken() throws Exception {
        assertThat(get("127.0.0.1", "/api/status", null).statusCode()).isEqualTo(200);
    }

    @Test
    void aBrowserOpensThePageOnceWithTheTokenAndKeepsACookie() throws Exception {
        HttpClient browser = HttpClient.newBuilder().cookieHandler(new CookieManager()).build();
        String base = "http://" + lan + ":" + cp.httpPort();
        var first = browser.send(HttpRequest.newBuilder(URI.create(base + "/graph?token=" + token)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.headers().firstValue("set-cookie")).get().asString()
                .contains("septa-token=").containsIgnoringCase("HttpOnly").containsIgnoringCase("SameSite=Strict");
        var api = browser.send(HttpRequest.newBuilder(URI.create(base + "/api/graph")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(api.statusCode()).as("the page's own API calls ride on the cookie").isEqualTo(200);
    }

    @Test
    void theCliSendsTheTokenFromItsTokenFile() throws Exception {
        String server = "http://" + lan + ":" + cp.httpPort();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cli = SeptaCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        assertThat(cli.execute("status", "--server", server, "--token-file", dir.resolve("nowhere").toString())).isEqualTo(2);
        assertThat(err.toString()).contains("401");
        assertThat(cli.execute("status", "--server", server, "--token-file", dir.resolve("state/http-token").toString()))
                .as(err.toString()).isZero();
        assertThat(out.toString()).contains("root rotation: idle");
    }

    static Optional<InetAddress> networkAddress() throws Exception {
        for (NetworkInterface nic : java.util.Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nic.isUp() || nic.isLoopback()) {
                continue;
            }
            for (InetAddress a : java.util.Collections.list(nic.getInetAddresses())) {
                if (a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress()) {
                    return Optional.of(a);
                }
            }
        }
        return Optional.empty();
    }
}
