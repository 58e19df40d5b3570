package dev.septa.demo;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The line protocol between a demo workload process (stdout) and {@code septa demo}: one event per line,
 * {@code @septa<TAB>kind<TAB>field...}; tabs and newlines inside fields become spaces. Anything else on stdout
 * (grpc's own logging goes to stderr) is ignored by the parent.
 */
public final class WorkloadEvents {
    static final String PREFIX = "@septa";

    private WorkloadEvents() {
    }

    static synchronized void emit(PrintStream out, String kind, Object... fields) {
        var line = new StringBuilder(PREFIX).append('\t').append(kind);
        for (Object field : fields) {
            line.append('\t').append(String.valueOf(field).replace('\t', ' ').replace('\n', ' ').replace('\r', ' '));
        }
        out.println(line);
        out.flush();
    }

    /** One parsed event: its kind and fields. */
    public record Event(String kind, List<String> fields) {
        public String field(int index) {
            return index < fields.size() ? fields.get(index) : "";
        }
    }

    public static Optional<Event> parse(String line) {
        if (!line.startsWith(PREFIX + "\t")) {
            return Optional.empty();
        }
        String[] parts = line.split("\t", -1);
        return Optional.of(new Event(parts[1], new ArrayList<>(List.of(parts).subList(2, parts.length))));
    }

    /**
     * A finished call: {@code call id target path code server caller millis detail}. {@code id} is {@code -} for the
     * workload's periodic calls, the requester's id for calls asked on stdin.
     */
    public record CallResult(String id, String from, String target, String path, String code, String server,
                             String callerSeen, long millis, String detail) {
        public static Optional<CallResult> of(String from, Event event) {
            if (!event.kind().equals("call")) {
                return Optional.empty();
            }
            long millis;
            try {
                millis = Long.parseLong(event.field(6));
            } catch (NumberFormatException e) {
                millis = -1;
            }
            return Optional.of(new CallResult(event.field(0), from, event.field(1), event.field(2), event.field(3),
                    event.field(4), event.field(5), millis, event.field(7)));
        }

        public boolean ok() {
            return code.equals("OK");
        }

        public boolean permissionDenied() {
            return code.equals("PERMISSION_DENIED");
        }
    }
}
