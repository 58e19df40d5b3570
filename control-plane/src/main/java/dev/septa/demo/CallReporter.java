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
 *
 * <p>Only policy decisions are called ALLOWED or DENIED. A call that failed because its caller had not received its
 * configuration for the target yet (grpc-java's resource timer: "does not exist", "NOT_FOUND") is
 * {@value #UNCONFIGURED}: Septa answers every name a workload asks for, so this means the configuration had not
 * reached it, never that the policy refused. (Servers cannot serve before their RBAC is in force: grpc-xds binds a
 * port only once its Listener arrived, {@code XdsServerWaitsForItsPolicyTest}.) Once stopped, nothing more is
 * printed: the calls cut short by the shutdown are not results.
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
    private final AtomicLong unconfigured = new AtomicLong();
    private volatile boolean stopped;
    static final String UNCONFIGURED = "NOT YET CONFIGURED";

    public CallReporter(PrintStream out, Supplier<Optional<ExpectedDecisions>> decisions, boolean verbose) {
        this.out = out;
        this.decisions = decisions;
        this.verbose = verbose;
    }

    public void header() {
        out.printf("%-8s  %-20s    %-22s %-30s %-8s %s%n", "TIME", "FROM", "TO", "PATH", "RESULT", "BY");
    }

    /** Stops reporting: calls that end after this were cut short by the shutdown. */
    public void stop() {
        stopped = true;
    }

    public void report(WorkloadEvents.CallResult call) {
        if (stopped) {
            return;
        }
        String outcome = outcome(call);
        Optional<Decision> expected = decisions.get().flatMap(d -> d.decide(call.from(), call.target(), call.path(), call.server()));
        String by = expected.map(Decision::by).orElse("?");
        if (outcome.equals(UNCONFIGURED)) {
            by = "-";
        }
        String dryRun = outcome.equals(UNCONFIGURED) ? "  (the caller has no configuration for this service yet; not a policy decision)"
                : expected.flatMap(Decision::wouldDenyBy).map(w -> "  (DryRun " + w + " would deny)").orElse("");
        boolean decided = outcome.equals("ALLOWED") || outcome.equals("DENIED");
        boolean agrees = !decided || expected.map(d -> d.allowed() == outcome.equals("ALLOWED")).orElse(true);
        String to = call.ok() ? call.server() + ":" + port(call.target()) : call.target();
        String key = call.from() + " " + call.target() + " " + call.path();
        String summary = outcome + " " + by + (agrees ? "" : " !");
        String previous = last.put(key, summary);
        switch (outcome) {
            case "ALLOWED" -> allowed.incrementAndGet();
            case "DENIED" -> denied.incrementAndGet();
            case UNCONFIGURED -> unconfigured.incrementAndGet();
            default -> failed.incrementAndGet();
        }
        if (verbose || !summary.equals(previous)) {
            String detail = decided || outcome.equals(UNCONFIGURED) ? "" : "  " + call.code() + " " + call.detail();
            out.printf("%-8s  %-20s -> %-22s %-30s %-8s %s%s%s%s%n", LocalTime.now().format(TIME), call.from(), to,
                    call.path(), outcome, by, dryRun, agrees ? "" : "   (differs from septa check: " + expected.get() + ", propagating?)",
                    detail);
        }
    }

    /**
     * ALLOWED; DENIED (the server's RBAC refused, or the caller's egress scope: Septa's stand-in listener fails the
     * call with PERMISSION_DENIED); {@value #UNCONFIGURED} ({@link #notRouted}); or FAILED.
     */
    static String outcome(WorkloadEvents.CallResult call) {
        if (call.ok()) {
            return "ALLOWED";
        }
        if (call.permissionDenied()) {
            return "DENIED";
        }
        if (notRouted(call) || awaitedConfiguration(call)) {
            return UNCONFIGURED;
        }
        return "FAILED";
    }

    /**
     * The caller's configuration has no listener for the target. A name the compiler scoped away is answered with a
     * stand-in listener that aborts every call at once with PERMISSION_DENIED, so this is seen only when no answer
     * reached the caller before grpc's 15 s resource timer ("NOT_FOUND: Timed out waiting for resource", "does not
     * exist"): the configuration had not arrived.
     */
    public static boolean notRouted(WorkloadEvents.CallResult call) {
        return call.code().equals("UNAVAILABLE")
                && (call.detail().contains("does not exist") || call.detail().contains("NOT_FOUND"));
    }

    /**
     * The deadline passed while the call still waited for the caller's configuration: grpc-java says "Name resolution
     * delay" and names no connection ({@code remote_addr}) it tried. Seen in the first seconds on a loaded machine.
     */
    static boolean awaitedConfiguration(WorkloadEvents.CallResult call) {
        return call.code().equals("DEADLINE_EXCEEDED") && call.detail().contains("Name resolution delay")
                && !call.detail().contains("remote_addr=");
    }

    public String totals() {
        return allowed.get() + " allowed, " + denied.get() + " denied, " + failed.get() + " failed"
                + (unconfigured.get() == 0 ? "" : ", " + unconfigured.get() + " before their caller was configured");
    }

    private static String port(String target) {
        return target.substring(target.lastIndexOf(':') + 1);
    }
}
