package dev.septa.cli;

import dev.septa.controlplane.quarantine.QuarantineOrder;
import dev.septa.controlplane.status.StatusReport;
import io.micronaut.core.type.Argument;
import io.micronaut.serde.ObjectMapper;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code septa quarantine}: cut a workload off on the running control plane (it can neither call nor be called, but by
 * the forensics segment; its certificate is not renewed), release it, or list quarantines. Waits until the
 * configuration carrying the change is in force and says how long that took.
 */
@Command(name = "quarantine", mixinStandardHelpOptions = true,
        description = {"Quarantine a workload on the running control plane: at once it can neither call nor be called",
                "(except by --allow-from), whatever the intents say, and its certificate is no longer renewed.",
                "  septa quarantine NS/NAME [--reason TEXT] [--allow-from SEGMENT]",
                "  septa quarantine --release NS/NAME",
                "  septa quarantine --list",
                "Exit codes: 0 done, 2 bad input, unknown workload, or the control plane refused or cannot be reached."})
public final class QuarantineCommand implements Callable<Integer> {
    static final int BAD_INPUT = 2;

    @Parameters(index = "0", arity = "0..1", paramLabel = "NS/NAME", description = "the workload (its node id)")
    String workload;

    @Option(names = "--reason", paramLabel = "TEXT",
            description = "why (printable ASCII, at most 128 characters); septa check then says DENY quarantine:TEXT (default: unspecified)")
    String reason;

    @Option(names = "--allow-from", paramLabel = "SEGMENT",
            description = "the forensics segment that may still call it: SEGMENT of its namespace, or NS/SEGMENT")
    String allowFrom;

    @Option(names = "--release", description = "lift the quarantine of NS/NAME (a new certificate is issued at once)")
    boolean release;

    @Option(names = "--list", description = "list the quarantines")
    boolean list;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "text", description = "with --list: text or json")
    String output;

    @Option(names = "--server", paramLabel = "URL", defaultValue = "http://127.0.0.1:15000",
            description = "the control plane's HTTP API (default ${DEFAULT-VALUE})")
    String server;

    @Option(names = "--wait", paramLabel = "DURATION", defaultValue = "10s",
            description = "how long to wait for the change to be in force (default ${DEFAULT-VALUE}; 0s: do not wait)")
    String wait;

    @Spec
    CommandSpec spec;

    @Mixin
    ApiAccess access = new ApiAccess();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            return run(out, err);
        } finally {
            out.flush();
            err.flush();
        }
    }

    private int run(PrintWriter out, PrintWriter err) {
        if (list) {
            if (workload != null || release || reason != null || allowFrom != null) {
                return bad(err, "--list takes no workload or other option");
            }
            return list(out, err);
        }
        if (workload == null) {
            return bad(err, "name the workload: septa quarantine NS/NAME (or --list)");
        }
        if (release && (reason != null || allowFrom != null)) {
            return bad(err, "--release takes only the workload");
        }
        String problem = QuarantineOrder.problem(workload, reason, allowFrom);
        if (problem != null) {
            return bad(err, problem);
        }
        long waitMillis;
        try {
            waitMillis = CaDurations.parse(wait).toMillis();
        } catch (RuntimeException e) {
            return bad(err, "invalid --wait '" + wait + "': a duration such as 10s or 1m");
        }
        long start = System.nanoTime();
        String path = "/api/quarantines/" + workload;
        if (!release) {
            StringBuilder query = new StringBuilder();
            if (reason != null) {
                query.append("reason=").append(encode(reason));
            }
            if (allowFrom != null) {
                query.append(query.isEmpty() ? "" : "&").append("allowFrom=").append(encode(allowFrom));
            }
            path += query.isEmpty() ? "" : "?" + query;
        }
        HttpResponse<String> response;
        try {
            response = access.send(server, path, release ? "DELETE" : "POST");
        } catch (Exception e) {
            err.println("septa quarantine: cannot reach the control plane at " + server + ": " + ServeCommand.rootMessage(e)
                    + " (is 'septa serve' or 'septa demo' running? --server URL)");
            return BAD_INPUT;
        }
        if (response.statusCode() != 200) {
            err.println("septa quarantine: " + (response.body().isBlank() ? server + " answered HTTP " + response.statusCode()
                    : response.body().strip()));
            return BAD_INPUT;
        }
        boolean inForce = waitUntil(!release, waitMillis);
        double took = (System.nanoTime() - start) / 1e9;
        if (release) {
            out.printf("released %s%s; its calls are decided by the intents again, and a new certificate is issued%n", workload,
                    inForce ? String.format(" (in force after %.2f s)", took) : waitMillis > 0 ? " (not yet in force: see septa status)" : "");
        } else {
            out.printf("quarantined %s (reason: %s%s)%s: it can neither call nor be called%s; septa check answers DENY quarantine:%s;"
                            + " its certificate is not renewed%n", workload, reason == null ? "unspecified" : reason,
                    allowFrom == null ? "" : ", forensics: " + allowFrom,
                    inForce ? String.format(", in force after %.2f s", took) : waitMillis > 0 ? ", NOT yet in force: see septa status" : "",
                    allowFrom == null ? "" : " except by " + allowFrom, reason == null ? "unspecified" : reason);
        }
        return 0;
    }

    /** Polls the list until the workload's quarantine is in force (or gone); false after {@code millis}. */
    private boolean waitUntil(boolean quarantined, long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (millis > 0) {
            try {
                List<StatusReport.QuarantineView> views = fetch();
                boolean in = views.stream().anyMatch(v -> v.workload().equals(workload) && v.inForce());
                boolean listed = views.stream().anyMatch(v -> v.workload().equals(workload));
                if (quarantined ? in : !listed) {
                    return true;
                }
            } catch (Exception e) {
                // keep trying until the deadline
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(100); // the control plane is busy enforcing: no need to ask it more often
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    private List<StatusReport.QuarantineView> fetch() throws Exception {
        HttpResponse<String> r = access.send(server, "/api/quarantines", "GET");
        if (r.statusCode() != 200) {
            throw new IllegalStateException("HTTP " + r.statusCode());
        }
        return ObjectMapper.getDefault().readValue(r.body(), Argument.listOf(StatusReport.QuarantineView.class));
    }

    private int list(PrintWriter out, PrintWriter err) {
        HttpResponse<String> response;
        try {
            response = access.send(server, "/api/quarantines", "GET");
        } catch (Exception e) {
            err.println("septa quarantine: cannot reach the control plane at " + server + ": " + ServeCommand.rootMessage(e));
            return BAD_INPUT;
        }
        if (response.statusCode() != 200) {
            err.println("septa quarantine: " + server + " answered HTTP " + response.statusCode());
            return BAD_INPUT;
        }
        if (output.equals("json")) {
            out.println(response.body());
            return 0;
        }
        try {
            print(ObjectMapper.getDefault().readValue(response.body(), Argument.listOf(StatusReport.QuarantineView.class)), out);
        } catch (Exception e) {
            err.println("septa quarantine: unreadable answer from " + server + ": " + e.getMessage());
            return BAD_INPUT;
        }
        return 0;
    }

    /** The table {@code septa quarantine --list} and {@code septa status} print. */
    static void print(List<StatusReport.QuarantineView> views, PrintWriter out) {
        out.printf("quarantines: %d%n", views.size());
        if (views.isEmpty()) {
            return;
        }
        out.printf("  %-28s %-9s %-22s %-24s %s%n", "WORKLOAD", "IN FORCE", "SINCE", "FORENSICS", "REASON");
        for (StatusReport.QuarantineView v : views) {
            out.printf("  %-28s %-9s %-22s %-24s %s%s%n", v.workload(), v.inForce() ? "yes" : "NO", v.since() == null ? "-" : v.since(),
                    v.allowFrom() == null ? "-" : v.allowFrom(), v.reason(), v.certificateWithheld() ? " (certificate not renewed)" : "");
        }
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static int bad(PrintWriter err, String message) {
        err.println("septa quarantine: " + message);
        return BAD_INPUT;
    }
}
