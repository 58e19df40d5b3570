package dev.septa.cli;

import dev.septa.controlplane.auth.HttpAccessToken;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * How the CLI authenticates to the control plane's HTTP API: the bearer token from {@code STATE-DIR/http-token},
 * sent when that file is readable. Needed only from another machine (loopback clients pass without it).
 * A picocli mixin for the commands that talk to a running control plane.
 */
public final class ApiAccess {
    static final String DEFAULT_TOKEN_FILE = ".septa/" + HttpAccessToken.FILE;

    @Option(names = "--token-file", paramLabel = "FILE", defaultValue = "${env:SEPTA_TOKEN_FILE:-" + DEFAULT_TOKEN_FILE + "}",
            description = "the control plane's HTTP access token, STATE-DIR/http-token (env SEPTA_TOKEN_FILE; default"
                    + " ${DEFAULT-VALUE}); sent when readable, needed only from another machine")
    Path tokenFile = Path.of(DEFAULT_TOKEN_FILE);

    /**
     * Sends one request to the control plane at {@code server} (its base URL) for {@code path}: a GET, or a POST
     * without body when {@code post}; 5 s to connect, 10 s for the answer.
     */
    HttpResponse<String> send(String server, String path, boolean post) throws IOException, InterruptedException {
        HttpRequest.Builder request = request(URI.create(server.replaceAll("/+$", "") + path)).timeout(Duration.ofSeconds(10));
        if (post) {
            request.POST(HttpRequest.BodyPublishers.noBody());
        }
        return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
                .send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A request to {@code uri}, carrying the token when there is one. */
    HttpRequest.Builder request(URI uri) {
        return withToken(HttpRequest.newBuilder(uri), tokenFile);
    }

    /** For callers without the mixin: the token file from the environment, or the default. */
    static HttpRequest.Builder requestFromEnvironment(URI uri) {
        String env = System.getenv("SEPTA_TOKEN_FILE");
        return withToken(HttpRequest.newBuilder(uri), Path.of(env == null || env.isBlank() ? DEFAULT_TOKEN_FILE : env));
    }

    private static HttpRequest.Builder withToken(HttpRequest.Builder builder, Path file) {
        if (file != null && Files.isReadable(file)) {
            try {
                String token = Files.readString(file, StandardCharsets.US_ASCII).strip();
                if (!token.isEmpty()) {
                    builder.header("Authorization", "Bearer " + token);
                }
            } catch (IOException e) {
                // unreadable after all: go without, and the server says what it needs
            }
        }
        return builder;
    }
}
