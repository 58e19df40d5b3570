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
 * sent when that file is readable. Reads from this machine need none; a state-changing request ({@code ca rotate})
 * always does. When a local control plane refuses a request and names its token file (its state directory is not
 * the default {@code .septa}, e.g. the demo's), the CLI reads that file, which only the control plane's own user
 * can, and retries once. A picocli mixin for the commands that talk to a running control plane.
 */
public final class ApiAccess {
    static final String DEFAULT_TOKEN_FILE = ".septa/" + HttpAccessToken.FILE;
    /** Named by a refused local control plane: see {@code HttpAccessFilter}. */
    static final String TOKEN_FILE_HEADER = "Septa-Token-File";

    @Option(names = "--token-file", paramLabel = "FILE", defaultValue = "${env:SEPTA_TOKEN_FILE:-" + DEFAULT_TOKEN_FILE + "}",
            description = "the control plane's HTTP access token, STATE-DIR/http-token (env SEPTA_TOKEN_FILE; default"
                    + " ${DEFAULT-VALUE}); sent when readable; needed by ca rotate, and by every command from another machine")
    Path tokenFile = Path.of(DEFAULT_TOKEN_FILE);

    /**
     * Sends one request to the control plane at {@code server} (its base URL) for {@code path}: a GET, or a POST
     * without body when {@code post}; 5 s to connect, 10 s for the answer.
     */
    HttpResponse<String> send(String server, String path, boolean post) throws IOException, InterruptedException {
        return send(server, path, post ? "POST" : "GET");
    }

    /** As {@link #send(String, String, boolean)}, with any method (without body): GET, POST, DELETE. */
    HttpResponse<String> send(String server, String path, String method) throws IOException, InterruptedException {
        URI uri = URI.create(server.replaceAll("/+$", "") + path);
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> response = client.send(build(request(uri), method), HttpResponse.BodyHandlers.ofString());
        var named = response.headers().firstValue(TOKEN_FILE_HEADER).map(Path::of);
        if (response.statusCode() == 401 && named.isPresent() && !named.get().equals(tokenFile.toAbsolutePath())
                && Files.isReadable(named.get())) {
            response = client.send(build(withToken(HttpRequest.newBuilder(uri), named.get()), method), HttpResponse.BodyHandlers.ofString());
        }
        return response;
    }

    private static HttpRequest build(HttpRequest.Builder request, String method) {
        request.timeout(Duration.ofSeconds(10));
        request.method(method, HttpRequest.BodyPublishers.noBody());
        return request.build();
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
