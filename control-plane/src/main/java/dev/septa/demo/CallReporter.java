package dev.septa.demo;

import dev.septa.policy.check.Decision;
import java.io.PrintStream;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Prints the demo's calls: one line per (caller, target, path) when its outcome first appears or changes (every
 * call with {@code verbose}), saying ALLOWED or DENIED and by which intent, as {@code septa check} explains it on
 * the compiled policy. A real result that disagrees with the explanation is marked (it happens for a moment after
 * an edit, while the new configuration travels to the workloads).
 */
public final class CallReporter {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");
    private final PrintStream out;
    private final Supplier<Optional<ExpectedDecisions>> decisions;
    private final boolean verbose;
    private final Map<String, String> last = new ConcurrentHashMap<>();
    private final AtomicLong allowed = new AtomicLong();
    private final AtomicLong denied = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();

    public CallReporter(PrintStream out, Supplier<Optional<ExpectedDecisions>> decisions, boolean verbose) {
        this.out = out;
        this.decisions = decisions;
        this.verbose = verbose;
    }

    public void header() {
        out.printf("%-8s  %-20s    %-22s %-30s %-8s %s%n", "TIME", "FROM", "TO", "PATH", "RESULT", "BY");
    }

    public void report(WorkloadEvents.CallResult call) {
        String outcome = outcome(call);
        Optional<Decision> expected = decisions.get().flatMap(d -> d.decide(call.from(), call.target(), call.path(), call.server()));
        String by = expected.map(Decision::by).orElse("?");
        String dryRun = expected.flatMap(Decision::wouldDenyBy).map(w -> "  (DryRun " + w + " would deny)").orElse("")
                + (notRouted(call) ? "  (no route: not in the caller's configuration)" : "");
        boolean decided = outcome.equals("ALLOWED") || outcome.equals("DENIED");
        boolean agrees = !decided || expected.map(d -> d.allowed() == outcome.equals("ALLOWED")).orElse(true);
        String to = call.ok() ? call.server() + ":" + port(call.target()) : call.target();
        String key = call.from() + " " + call.target() + " " + call.path();
        String summary = outcome + " " + by + (agrees ? "" : " !");
        String previous = last.put(key, summary);
        switch (outcome) {
            case "ALLOWED" -> allowed.incrementAndGet();
            case "DENIED" -> denied.incrementAndGet();
            default -> failed.incrementAndGet();
        }
        if (verbose || !summary.equals(previous)) {
            String detail = outcome.equals("ALLOWED") || outcome.equals("DENIED") ? "" : "  " + call.code() + " " + call.detail();
            out.printf("%-8s  %-20s -> %-22s %-30s %-8s %s%s%s%s%n", LocalTime.now().format(TIME), call.from(), to,
                    call.path(), outcome, by, dryRun, agrees ? "" : "   (differs from septa check: " + expected.get() + ", propagating?)",
                    detail);
        }
    }

    /** ALLOWED, DENIED (the server's RBAC refused, or the caller has no route to it: egress-scoped), or FAILED. */
    static String outcome(WorkloadEvents.CallResult call) {
        if (call.ok()) {
            return "ALLOWED";
        }
        if (call.permissionDenied() || notRouted(call)) {
            return "DENIED";
        }
        return "FAILED";
    }

    /**
     * The caller's configuration has no listener for the target: the compiler scoped it away (not allowed). The
     * control plane answers such a name with a listener that aborts every call at once with PERMISSION_DENIED (so
     * this is mostly seen as "does not exist" when a listener the caller had was removed, or "NOT_FOUND: Timed out
     * waiting for resource" after grpc's 15 s timer when the name was left out).
     */
    public static boolean notRouted(WorkloadEvents.CallResult call) {
        return call.code().equals("UNAVAILABLE")
                && (call.detail().contains("does not exist") || call.detail().contains("NOT_FOUND"));
    }

    public String totals() {
        return allowed.get() + " allowed, " + denied.get() + " denied, " + failed.get() + " failed";
    }

    private static String port(String target) {
        return target.substring(target.lastIndexOf(':') + 1);
    }
}
