package dev.septa.cli;

import dev.septa.controlplane.graph.GraphJson;
import io.micronaut.json.JsonMapper;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code septa graph}: the live traffic graph of a running control plane, in the terminal. */
@Command(name = "graph", mixinStandardHelpOptions = true,
        description = {"Show the observed traffic of a running control plane (its /api/graph): who calls whom,",
                "allowed or denied, by which intent, and what a DryRun intent would deny."})
public final class GraphCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ApiAccess access = new ApiAccess();

    @Option(names = "--server", defaultValue = "${env:SEPTA_SERVER:-http://127.0.0.1:15000}",
            description = "The control plane's HTTP address (env SEPTA_SERVER; default ${DEFAULT-VALUE}).")
    String server;

    @Option(names = {"-n", "--namespace"}, split = ",", description = "Only edges touching these namespaces.")
    List<String> namespaces = new ArrayList<>();

    @Option(names = "--verdict", description = "ALLOW, DENY or WOULD_DENY (edges a DryRun intent would deny).")
    String verdict;

    @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table or json.")
    String output;

    @Option(names = {"-w", "--watch"}, description = "Keep following the live updates (server-sent events).")
    boolean watch;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (verdict != null && !List.of("ALLOW", "DENY", "WOULD_DENY").contains(verdict.toUpperCase(Locale.ROOT))) {
            err.println("septa graph: --verdict must be ALLOW, DENY or WOULD_DENY, not '" + verdict + "'");
            return 2;
        }
        if (!output.equals("table") && !output.equals("json")) {
            err.println("septa graph: --output must be table or json, not '" + output + "'");
            return 2;
        }
        URI base;
        try {
            base = URI.create(server.endsWith("/") ? server : server + "/");
            if (base.getScheme() == null || !base.getScheme().startsWith("http") || base.getHost() == null) {
                throw new IllegalArgumentException("not an http(s) URL");
            }
        } catch (IllegalArgumentException e) {
            err.println("septa graph: --server '" + server + "' is not an http(s) URL like http://127.0.0.1:15000");
            return 2;
        }
        String query = query();
        try {
            JsonMapper json = JsonMapper.createDefault();
            if (!watch) {
                HttpResponse<String> r = http.send(access.request(base.resolve("api/graph" + query))
                        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                    err.println("septa graph: " + base + " answered HTTP " + r.statusCode() + " for /api/graph");
                    return 1;
                }
                print(out, r.body(), json.readValue(r.body(), GraphJson.class));
                return 0;
            }
            HttpResponse<InputStream> r = http.send(access.request(base.resolve("api/graph/events" + query))
                    .header("Accept", "text/event-stream").build(), HttpResponse.BodyHandlers.ofInputStream());
            if (r.statusCode() != 200) {
                err.println("septa graph: " + base + " answered HTTP " + r.statusCode() + " for /api/graph/events");
                return 1;
            }
            try (var in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                StringBuilder data = new StringBuilder();
                for (String line; (line = in.readLine()) != null; ) {
                    if (line.startsWith("data:")) {
                        data.append(line.substring(5).trim());
                    } else if (line.isEmpty() && data.length() > 0) {
                        if (System.console() != null && output.equals("table")) {
                            out.print("\u001b[H\u001b[2J"); // redraw in place on a terminal
                        }
                        print(out, data.toString(), json.readValue(data.toString(), GraphJson.class));
                        data.setLength(0);
                    }
                }
            }
            return 0;
        } catch (ConnectException e) {
            err.println("septa graph: cannot connect to " + base + " (is `septa serve` running? set --server or SEPTA_SERVER)");
            return 1;
        } catch (IOException e) {
            err.println("septa graph: " + base + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    private String query() {
        List<String> q = new ArrayList<>();
        if (!namespaces.isEmpty()) {
            q.add("namespace=" + URLEncoder.encode(String.join(",", namespaces), StandardCharsets.UTF_8));
        }
        if (verdict != null) {
            q.add("verdict=" + verdict.toUpperCase(Locale.ROOT));
        }
        return q.isEmpty() ? "" : "?" + String.join("&", q);
    }

    private void print(PrintWriter out, String raw, GraphJson g) {
        if (output.equals("json")) {
            out.println(raw);
            out.flush();
            return;
        }
        out.print(GraphTable.render(g));
        out.flush();
    }
}
