package dev.septa.cli;

import dev.septa.controlplane.graph.GraphJson;
import io.micronaut.json.JsonMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** The observed traffic graph for {@code septa recommend} and {@code septa check --impact}: a running server's, or a saved file. */
final class ObservedGraph {
    static final String DEFAULT_SERVER = "http://127.0.0.1:15000";

    private ObservedGraph() { }

    /** @throws PolicyFiles.UnreadableException with a user-facing message */
    static GraphJson load(String server, Path file) throws PolicyFiles.UnreadableException {
        JsonMapper json = JsonMapper.createDefault();
        if (file != null) {
            try {
                return json.readValue(Files.readString(file), GraphJson.class);
            } catch (IOException | RuntimeException e) {
                throw new PolicyFiles.UnreadableException(file + ": not a traffic graph (the JSON of GET /api/graph or "
                        + "'septa graph -o json'): " + e.getMessage());
            }
        }
        String base = server == null ? DEFAULT_SERVER : server;
        URI uri;
        try {
            uri = URI.create(base.endsWith("/") ? base : base + "/").resolve("api/graph");
            if (uri.getScheme() == null || !uri.getScheme().startsWith("http") || uri.getHost() == null) {
                throw new IllegalArgumentException();
            }
        } catch (IllegalArgumentException e) {
            throw new PolicyFiles.UnreadableException("--server '" + base + "' is not an http(s) URL like " + DEFAULT_SERVER);
        }
        try {
            HttpResponse<String> r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
                    .send(ApiAccess.requestFromEnvironment(uri).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new PolicyFiles.UnreadableException(uri + " answered HTTP " + r.statusCode());
            }
            return json.readValue(r.body(), GraphJson.class);
        } catch (ConnectException e) {
            throw new PolicyFiles.UnreadableException("cannot connect to " + base + " (is `septa serve` running? set --server)");
        } catch (IOException e) {
            throw new PolicyFiles.UnreadableException(uri + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PolicyFiles.UnreadableException("interrupted");
        }
    }
}
