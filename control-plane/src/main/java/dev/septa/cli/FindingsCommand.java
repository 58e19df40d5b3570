package dev.septa.cli;

import dev.septa.controlplane.findings.Finding;
import dev.septa.controlplane.findings.FindingsJson;
import io.micronaut.serde.ObjectMapper;
import java.io.PrintWriter;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code septa findings}: the findings a running control plane raised from the traffic it observed. */
@Command(name = "findings", mixinStandardHelpOptions = true,
        description = {"Show the findings of a running control plane (its /api/findings): sources probing where they",
                "may not go (PROBING), allowed edges first seen after the learning window (NEW_EDGE), and allowed",
                "traffic a DryRun intent would deny (WOULD_DENY). Thresholds: MeshConfig spec.detection.",
                "Exit codes: 0 no findings, 1 findings, 2 bad input or the control plane could not be read."})
public final class FindingsCommand implements Callable<Integer> {
    private static final List<String> KINDS = List.of("PROBING", "NEW_EDGE", "WOULD_DENY");

    @Spec
    CommandSpec spec;

    @Mixin
    ApiAccess access = new ApiAccess();

    @Option(names = "--server", paramLabel = "URL", defaultValue = "${env:SEPTA_SERVER:-http://127.0.0.1:15000}",
            description = "the control plane's HTTP API (env SEPTA_SERVER; default ${DEFAULT-VALUE})")
    String server;

    @Option(names = "--kind", paramLabel = "KIND", description = "only PROBING, NEW_EDGE or WOULD_DENY")
    String kind;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "text", description = "text or json")
    String output;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (kind != null && !KINDS.contains(kind.toUpperCase(Locale.ROOT))) {
            err.println("septa findings: --kind must be PROBING, NEW_EDGE or WOULD_DENY, not '" + kind + "'");
            return 2;
        }
        if (!output.equals("text") && !output.equals("json")) {
            err.println("septa findings: --output must be text or json, not '" + output + "'");
            return 2;
        }
        String body;
        try {
            HttpResponse<String> response = access.send(server, "/api/findings"
                    + (kind == null ? "" : "?kind=" + kind.toUpperCase(Locale.ROOT)), false);
            if (response.statusCode() != 200) {
                err.println("septa findings: " + server + " answered HTTP " + response.statusCode() + " for /api/findings");
                return 2;
            }
            body = response.body();
        } catch (Exception e) {
            err.println("septa findings: cannot reach the control plane at " + server + ": " + ServeCommand.rootMessage(e)
                    + " (is 'septa serve' running? --server URL)");
            return 2;
        }
        FindingsJson report;
        try {
            report = ObjectMapper.getDefault().readValue(body, FindingsJson.class);
        } catch (Exception e) {
            err.println("septa findings: unreadable answer from " + server + ": " + e.getMessage());
            return 2;
        }
        if (output.equals("json")) {
            out.println(body);
        } else {
            print(report, out);
        }
        out.flush();
        return report.findings().isEmpty() ? 0 : 1;
    }

    static void print(FindingsJson r, PrintWriter out) {
        var d = r.detection();
        out.printf("detection: probing above %d denied calls in %ds; new edges: %s%n", d.probeThreshold(),
                d.probeWindowSeconds(), d.newEdgeDetection());
        if (r.findings().isEmpty()) {
            out.println("no findings");
        }
        for (Finding f : r.findings()) {
            out.printf("%-10s %s -> %s:%d  %s  count %d  first %s  last %s%n", f.kind(), f.source(), f.destination(), f.port(),
                    f.intent() == null ? "(intent unknown)" : f.intent(), f.count(), f.firstSeen(), f.lastSeen());
            if (f.targets().size() > 1) {
                out.println("           targets: " + String.join(", ", f.targets()));
            }
            if (!f.samples().isEmpty()) {
                out.println("           samples: " + String.join(", ", f.samples()));
            }
        }
        var c = r.counters();
        if (c.evicted() > 0 || c.untrackedDenials() > 0 || c.sinkDropped() > 0) {
            out.printf("incomplete: %d findings evicted (at most %d kept), %d denied calls not tracked, %d sink lines dropped%n",
                    c.evicted(), r.limits().maxFindings(), c.untrackedDenials(), c.sinkDropped());
        }
    }
}
