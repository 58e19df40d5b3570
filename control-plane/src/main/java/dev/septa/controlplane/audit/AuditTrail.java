package dev.septa.controlplane.audit;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads the audit log back ({@code septa audit}), offline: {@code audit.log.N} … {@code audit.log.1}, then
 * {@code audit.log}, oldest first. A line that is not a whole record (a write cut by a crash or a full disk) is
 * skipped and reported with its file and line; it never stops the reading.
 */
public final class AuditTrail {
    private static final TypeAdapter<JsonElement> ELEMENT = new Gson().getAdapter(JsonElement.class);

    /** One record: its time, kind and every field. */
    public record Entry(Instant time, String kind, JsonObject json) {
        public String text(String field) {
            JsonElement e = json.get(field);
            return e == null || !e.isJsonPrimitive() ? null : e.getAsString();
        }

        /** Whether this record is about workload NS/NAME: its node, its quarantine, or a policy change that affected it. */
        public boolean concerns(String workload) {
            if (workload.equals(text("node")) || workload.equals(text("workload"))) {
                return true;
            }
            if (kind.equals(AuditLog.POLICY_APPLIED) && json.get("affected") instanceof JsonArray affected) {
                for (JsonElement e : affected) {
                    if (e.isJsonPrimitive() && workload.equals(e.getAsString())) {
                        return true;
                    }
                }
                // Past the listed bound the change is counted, not listed: it may have affected the workload.
                JsonElement count = json.get("affectedCount");
                return count != null && count.isJsonPrimitive() && count.getAsJsonPrimitive().isNumber()
                        && count.getAsInt() > affected.size();
            }
            return false;
        }
    }

    /** A line that was skipped, as {@code FILE:LINE: message}. */
    public record Problem(Path file, int line, String message) {
        @Override
        public String toString() {
            return file + ":" + line + ": " + message;
        }
    }

    public record Result(List<Entry> entries, List<Problem> problems) {}

    private AuditTrail() {}

    /** The log files of {@code auditDir}, oldest first; empty when there is no log. */
    public static List<Path> files(Path auditDir) {
        List<Path> files = new ArrayList<>();
        for (int i = 1000; i >= 1; i--) {
            Path rotated = auditDir.resolve(RotatingFileSink.FILE + "." + i);
            if (Files.isRegularFile(rotated)) {
                files.add(rotated);
            }
        }
        Path current = auditDir.resolve(RotatingFileSink.FILE);
        if (Files.isRegularFile(current)) {
            files.add(current);
        }
        return files;
    }

    public static Result read(Path auditDir) throws IOException {
        List<Entry> entries = new ArrayList<>();
        List<Problem> problems = new ArrayList<>();
        for (Path file : files(auditDir)) {
            String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
            String[] lines = text.split("\n", -1);
            // split leaves "" after a final line break; anything else there is a line cut mid-write.
            for (int i = 0; i < lines.length; i++) {
                String line = lines[i];
                boolean last = i == lines.length - 1;
                if (line.isEmpty()) {
                    continue;
                }
                Optional<Entry> entry = parse(line);
                if (entry.isPresent()) {
                    entries.add(entry.get());
                } else {
                    problems.add(new Problem(file, i + 1, last
                            ? "the last record is incomplete (the writer stopped mid-write: a crash or a full disk); skipped"
                            : "not a whole audit record (a write cut by a crash or a full disk); skipped"));
                }
            }
        }
        return new Result(entries, problems);
    }

    /** One line as a record, if it is a JSON object with a valid {@code time} and a {@code kind}. */
    static Optional<Entry> parse(String line) {
        try (JsonReader r = new JsonReader(new StringReader(line))) {
            r.setLenient(false);
            if (r.peek() != JsonToken.BEGIN_OBJECT) {
                return Optional.empty();
            }
            JsonElement e = ELEMENT.read(r);
            if (r.peek() != JsonToken.END_DOCUMENT || !(e instanceof JsonObject json)) {
                return Optional.empty();
            }
            JsonElement time = json.get("time");
            JsonElement kind = json.get("kind");
            if (time == null || kind == null || !time.isJsonPrimitive() || !kind.isJsonPrimitive()) {
                return Optional.empty();
            }
            return Optional.of(new Entry(Instant.parse(time.getAsString()), kind.getAsString(), json));
        } catch (IOException | RuntimeException | StackOverflowError e) {
            return Optional.empty();
        }
    }
}
