package dev.septa.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.septa.controlplane.audit.AuditLog;
import dev.septa.controlplane.audit.AuditTrail;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code septa audit}: prints the audit trail from the state directory, offline (no running control plane needed).
 * Exit 0 printed (possibly nothing), 2 bad input (a malformed option, no audit log in the state directory).
 */
@Command(name = "audit", mixinStandardHelpOptions = true,
        description = {"Print the audit trail a control plane wrote to its state directory (STATE/audit/audit.log and its "
                + "rotated files, oldest first): policy versions applied and the workloads they affected, configuration "
                + "versions sent, ACKed and NACKed per proxy, certificates issued, renewed and refused, root rotation "
                + "stages, quarantines and releases. Reads the files only: no running control plane is needed.",
                "Lines cut by a crash are skipped and reported on stderr. Record format: docs/audit.md.",
                "Exit 0 printed, 2 bad input."})
public final class AuditCommand implements Callable<Integer> {
    static final int OK = 0;
    static final int BAD_INPUT = 2;

    @Spec
    CommandSpec spec;

    @Option(names = "--state-dir", paramLabel = "DIR", defaultValue = ".septa",
            description = "the state directory of `septa serve` (default ${DEFAULT-VALUE}; the demo's is .septa/demo)")
    Path stateDir;

    @Option(names = "--since", paramLabel = "TIME",
            description = "only records at or after TIME: an instant (2026-12-01T10:00:00Z) or a UTC date (2026-12-01)")
    String since;

    @Option(names = "--workload", paramLabel = "NS/NAME",
            description = "only records about this workload: policy changes that affected its configuration, the "
                    + "configuration versions it was sent, ACKed or NACKed, its certificates, its quarantines")
    String workload;

    @Option(names = "--json", description = "print the records as stored, one JSON object per line")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            Instant from = null;
            if (since != null) {
                from = CliTimes.parseInstant(since);
                if (from == null) {
                    return bad(err, "--since must be an instant such as 2026-12-01T10:00:00Z or a date such as 2026-12-01, not '"
                            + since + "'");
                }
            }
            if (workload != null && !workload.matches("[^/\\s]+/[^/\\s]+")) {
                return bad(err, "--workload must be NS/NAME, not '" + workload + "'");
            }
            Path dir = stateDir.resolve(AuditLog.DIR);
            if (AuditTrail.files(dir).isEmpty()) {
                return bad(err, "no audit log in " + dir + ": give the --state-dir of `septa serve` (in Kubernetes mode the "
                        + "audit lines go to the control plane's standard output instead)");
            }
            AuditTrail.Result trail;
            try {
                trail = AuditTrail.read(dir);
            } catch (IOException e) {
                return bad(err, "cannot read " + dir + ": " + e.getMessage());
            }
            trail.problems().forEach(p -> err.println("septa audit: " + p));
            int printed = 0;
            for (AuditTrail.Entry e : trail.entries()) {
                if ((from != null && e.time().isBefore(from)) || (workload != null && !e.concerns(workload))) {
                    continue;
                }
                out.println(json ? e.json().toString() : describe(e));
                printed++;
            }
            if (!json && printed == 0) {
                err.println("septa audit: no records" + (workload == null ? "" : " about " + workload)
                        + (from == null ? "" : " since " + from));
            }
            return OK;
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** One line per record: time, kind, and what matters about it. */
    public static String describe(AuditTrail.Entry e) {
        StringBuilder s = new StringBuilder().append(e.time()).append("  ").append(String.format("%-15s", e.kind())).append(' ');
        switch (e.kind()) {
            case AuditLog.POLICY_APPLIED -> {
                s.append("version ").append(e.text("version"));
                if (e.text("previous") != null) {
                    s.append(" (was ").append(e.text("previous")).append(')');
                }
                if ("true".equals(e.text("start"))) {
                    s.append(" at start");
                }
                List<String> changes = new ArrayList<>();
                if (e.json().get("changed") instanceof JsonArray changed) {
                    for (JsonElement c : changed) {
                        if (c instanceof JsonObject o) {
                            changes.add(change(o));
                        }
                    }
                }
                if (!changes.isEmpty() && !"true".equals(e.text("start"))) {
                    s.append(": ").append(String.join(", ", changes));
                }
                s.append("; affected ").append(e.text("affectedCount")).append(" workloads");
                if (e.json().get("affected") instanceof JsonArray affected && !affected.isEmpty() && affected.size() <= 10) {
                    List<String> names = new ArrayList<>();
                    affected.forEach(a -> names.add(text(a)));
                    s.append(": ").append(String.join(" ", names));
                }
            }
            case AuditLog.XDS_SENT, AuditLog.XDS_ACK, AuditLog.XDS_NACK -> {
                s.append(e.text("node")).append(' ').append(e.text("type")).append(' ').append(e.text("version"));
                if (e.text("config") != null) {
                    s.append(" (policy ").append(e.text("config")).append(')');
                }
                if (e.text("error") != null) {
                    s.append(": ").append(e.text("error"));
                }
            }
            case AuditLog.CERT_ISSUED, AuditLog.CERT_RENEWED -> s.append(e.text("node")).append(' ').append(e.text("spiffeId"))
                    .append(" serial ").append(e.text("serial")).append(" until ").append(e.text("notAfter"));
            case AuditLog.CERT_REFUSED -> s.append(e.text("node")).append(' ').append(e.text("spiffeId")).append(": ")
                    .append(e.text("error")).append(" (attempt ").append(e.text("attempt")).append(", retry at ")
                    .append(e.text("retryAt")).append(')');
            case AuditLog.CA_ROTATION -> {
                s.append(e.text("stage")).append("; signer ").append(e.text("signer"));
                if (e.text("error") != null) {
                    s.append("; ERROR ").append(e.text("error"));
                }
            }
            case AuditLog.QUARANTINE -> {
                s.append(e.text("workload"));
                if (e.text("reason") != null) {
                    s.append(" reason \"").append(e.text("reason")).append('"');
                }
                if (e.text("allowFrom") != null) {
                    s.append(" allow-from ").append(e.text("allowFrom"));
                }
                if (e.text("actor") != null) {
                    s.append(" by ").append(e.text("actor"));
                }
            }
            case AuditLog.RELEASE -> {
                s.append(e.text("workload"));
                if (e.text("actor") != null) {
                    s.append(" by ").append(e.text("actor"));
                }
            }
            case AuditLog.LOST -> s.append(e.text("records")).append(" records lost since ").append(e.text("since"))
                    .append(": ").append(e.text("error"));
            default -> s.append(e.json());
        }
        return s.toString();
    }

    private static String change(JsonObject o) {
        String what = o.has("path") ? text(o.get("path"))
                : o.has("kind") ? text(o.get("kind")) + " " + text(o.get("namespace")) + "/" + text(o.get("name"))
                : text(o.get("object"));
        StringBuilder s = new StringBuilder(o.has("change") ? text(o.get("change")) : "changed").append(' ').append(what);
        if (o.has("resourceVersion")) {
            s.append(" resourceVersion ").append(text(o.get("resourceVersion")));
        }
        if (o.has("manager")) {
            s.append(" by ").append(text(o.get("manager")));
        }
        return s.toString();
    }

    /** A field as text, whatever a hand-edited line holds there. */
    private static String text(JsonElement e) {
        return e == null || e.isJsonNull() ? "-" : e.isJsonPrimitive() ? e.getAsString() : e.toString();
    }

    private int bad(PrintWriter err, String message) {
        err.println("septa audit: " + message);
        err.println("usage: septa audit [--state-dir DIR] [--since TIME] [--workload NS/NAME] [--json]");
        return BAD_INPUT;
    }
}
