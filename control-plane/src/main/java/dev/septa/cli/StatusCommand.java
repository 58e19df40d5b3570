package dev.septa.cli;

import dev.septa.controlplane.status.StatusReport;
import io.micronaut.serde.ObjectMapper;
import java.io.PrintWriter;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code septa status}: every connected proxy (version ACKed, last NACK, certificate expiry) and the last compile. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show connected proxies, what they ACKed or NACKed, their certificates, and the last compile's errors.")
public final class StatusCommand implements Callable<Integer> {
    @Option(names = "--server", paramLabel = "URL", defaultValue = "http://127.0.0.1:15000", description = "the control plane's HTTP API (default ${DEFAULT-VALUE})")
    String server;
    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "text", description = "text or json")
    String output;

    @Spec
    CommandSpec spec;

    @Mixin
    ApiAccess access = new ApiAccess();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String body;
        try {
            HttpResponse<String> response = access.send(server, "/api/status", false);
            if (response.statusCode() != 200) {
                err.println("septa status: " + server + " answered HTTP " + response.statusCode());
                return 2;
            }
            body = response.body();
        } catch (Exception e) {
            err.println("septa status: cannot reach the control plane at " + server + ": " + ServeCommand.rootMessage(e)
                    + " (is 'septa serve' running? --server URL)");
            return 2;
        }
        if (output.equals("json")) {
            out.println(body);
            return 0;
        }
        StatusReport report;
        try {
            report = ObjectMapper.getDefault().readValue(body, StatusReport.class);
        } catch (Exception e) {
            err.println("septa status: unreadable answer from " + server + ": " + e.getMessage());
            return 2;
        }
        print(report, out);
        return report.compile().ok() ? 0 : 1;
    }

    static void print(StatusReport report, PrintWriter out) {
        StatusReport.Compile c = report.compile();
        if (c.ok()) {
            out.printf("configuration: ok (input %s, applied %s)%n", c.appliedInput(), c.appliedAt());
        } else {
            out.printf("configuration: REJECTED at %s; %s%n", c.at(),
                    c.appliedAt() == null ? "no configuration in force yet" : "still serving input " + c.appliedInput() + " of " + c.appliedAt());
            c.errors().forEach(e -> out.println("  " + e));
        }
        c.warnings().forEach(w -> out.println("  " + w));
        report.warnings().forEach(w -> out.println("WARNING: " + w));
        if (!report.quarantines().isEmpty()) {
            QuarantineCommand.print(report.quarantines(), out);
        }
        out.printf("proxies: %d connected, %d distinct snapshots%n", report.proxies().size(), report.distinctSnapshots());
        out.printf("%-28s %-7s %-8s %-34s %-22s %s%n", "NODE", "DIALECT", "SYNC", "ACKED (LDS/RDS/CDS/EDS/SDS)", "CERT EXPIRES", "LAST NACK");
        for (StatusReport.Proxy p : report.proxies()) {
            String acked = String.join("/", short8(p, "Listener"), short8(p, "RouteConfiguration"), short8(p, "Cluster"),
                    short8(p, "ClusterLoadAssignment"), short8(p, "Secret"));
            StatusReport.Nack n = p.lastNack();
            out.printf("%-28s %-7s %-8s %-34s %-22s %s%n", p.nodeId(), p.dialect(), p.inSync() ? "in-sync" : "pending", acked,
                    p.certificateExpiry() == null ? "-" : until(p.certificateExpiry()),
                    n == null ? "-" : shortType(n.typeUrl()) + " " + abbreviate(n.version()) + ": " + oneLine(n.error()));
        }
        printCertificates(report, out);
        printRotation(report, out);
    }

    /** Renewal: the next one due, and every failing one (retried with backoff while the old certificate is valid). */
    static void printRotation(StatusReport report, PrintWriter out) {
        StatusReport.Rotation r = report.rootRotation();
        if (r == null) {
            return;
        }
        out.printf("root rotation: %s (since %s)%s%n", r.stage(), r.since(), r.lastError() == null ? "" : "; ERROR " + r.lastError());
        if (r.signer() != null) {
            out.println("  signer: " + r.signer());
        }
        r.roots().forEach(root -> out.println("  trusted root: " + root));
        if (!r.waitingFor().isEmpty()) {
            out.println("  waiting for: " + String.join(", ", r.waitingFor()));
        }
        if (r.attention() != null) {
            out.println("  ATTENTION: " + r.attention());
        }
    }

    static void printCertificates(StatusReport report, PrintWriter out) {
        List<StatusReport.Renewal> certs = report.certificates();
        long failing = certs.stream().filter(r -> r.failures() > 0).count();
        Instant next = certs.stream().map(StatusReport.Renewal::renewAt).filter(java.util.Objects::nonNull)
                .min(Instant::compareTo).orElse(null);
        out.printf("certificates: %d workloads, next renewal %s, %s%n", certs.size(), next == null ? "-" : next,
                failing == 0 ? "no renewal failing" : failing + " RENEWAL FAILING");
        for (StatusReport.Renewal r : certs) {
            if (r.failures() > 0) {
                out.printf("  %s: %d failed attempts, retry at %s, certificate %s: %s%n", r.nodeId(), r.failures(), r.retryAt(),
                        r.notAfter() == null ? "none yet" : "expires " + until(r.notAfter()), r.lastError());
            }
        }
    }

    private static String short8(StatusReport.Proxy p, String type) {
        return p.ackedVersions().entrySet().stream().filter(e -> e.getKey().endsWith("." + type))
                .map(e -> abbreviate(e.getValue())).findFirst().orElse("-");
    }

    private static String abbreviate(String version) {
        return version == null ? "-" : version.length() > 6 ? version.substring(0, 6) : version;
    }

    /** A NACK's text comes from the proxy (the C-core's span several lines): one line of printable text per proxy. */
    static String oneLine(String text) {
        return text == null ? "" : dev.septa.policy.model.Printable.escape(text.strip().replaceAll("\\s+", " "));
    }

    private static String shortType(String typeUrl) {
        return typeUrl.substring(typeUrl.lastIndexOf('.') + 1);
    }

    private static String until(Instant t) {
        Duration d = Duration.between(Instant.now(), t);
        return t + (d.isNegative() ? " (EXPIRED)" : " (" + d.toMinutes() + "m)");
    }
}
