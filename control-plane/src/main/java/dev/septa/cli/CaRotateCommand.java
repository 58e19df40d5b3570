package dev.septa.cli;

import dev.septa.controlplane.status.StatusReport;
import io.micronaut.serde.ObjectMapper;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code septa ca rotate}: asks the running control plane to start a staged root rotation (new root into every
 * trust bundle, then re-issue, then drop the old root). Follow it with {@code septa status}.
 */
@Command(name = "rotate", mixinStandardHelpOptions = true,
        description = {"Start a staged root rotation on the running control plane; watch it with `septa status`."})
public final class CaRotateCommand implements Callable<Integer> {
    @Option(names = "--server", paramLabel = "URL", defaultValue = "http://127.0.0.1:15000",
            description = "the control plane's HTTP API (default ${DEFAULT-VALUE})")
    String server;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        HttpResponse<String> response;
        try {
            response = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build().send(
                    HttpRequest.newBuilder(URI.create(server.replaceAll("/+$", "") + "/api/ca/rotate"))
                            .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            err.println("septa ca rotate: cannot reach the control plane at " + server + ": " + ServeCommand.rootMessage(e)
                    + " (is 'septa serve' running? --server URL)");
            return 2;
        }
        if (response.statusCode() == 409) {
            err.println("septa ca rotate: this control plane does not run Septa's built-in CA");
            return 2;
        }
        if (response.statusCode() / 100 != 2) {
            err.println("septa ca rotate: " + server + " answered HTTP " + response.statusCode());
            return 2;
        }
        out.println("root rotation requested; stages: new root into every bundle -> re-issue every certificate -> old root removed");
        try {
            StatusCommand.printRotation(ObjectMapper.getDefault().readValue(response.body(), StatusReport.class), out);
        } catch (Exception e) {
            // the request was accepted; the status is a courtesy
        }
        return 0;
    }
}
