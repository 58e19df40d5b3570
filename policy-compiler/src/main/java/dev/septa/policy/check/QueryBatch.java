package dev.septa.policy.check;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.Gson;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.JsonPrimitive;
import com.google.gson.stream.JsonWriter;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The {@code septa check --queries} format: one JSON query per line in, one JSON answer per line out, in order.
 * All lines are read and validated before any is answered, so bad input yields only {@code FILE:LINE: message}
 * errors and never a partial answer. Blank lines are skipped (they are not queries, so they get no answer line).
 */
public final class QueryBatch {
    private static final TypeAdapter<JsonElement> ELEMENT = new Gson().getAdapter(JsonElement.class);
    private static final Set<String> FIELDS = Set.of("from", "to", "port", "method", "path");

    private QueryBatch() { }

    /** A query and the line it came from (1-based). */
    public record Line(int number, Query query) { }

    /** {@code FILE:LINE: message}. */
    public record LineError(String file, int line, String message) {
        @Override
        public String toString() {
            return file + ":" + line + ": " + message;
        }
    }

    public record Parsed(List<Line> queries, List<LineError> errors) { }

    /** Reads every line of {@code in}; {@code file} names it in errors ({@code <stdin>} for standard input). */
    public static Parsed parse(String file, BufferedReader in) throws IOException {
        var queries = new ArrayList<Line>();
        var errors = new ArrayList<LineError>();
        String text;
        int n = 0;
        while ((text = in.readLine()) != null) {
            n++;
            if (text.isBlank()) {
                continue;
            }
            try {
                queries.add(new Line(n, parseLine(text)));
            } catch (IllegalArgumentException e) {
                errors.add(new LineError(file, n, e.getMessage()));
            }
        }
        return new Parsed(queries, errors);
    }

    /** One line; throws IllegalArgumentException with a message that says what would be right. */
    public static Query parseLine(String text) {
        JsonElement e;
        try (JsonReader r = new JsonReader(new StringReader(text))) {
            // Strict: Gson's JsonParser is lenient and would accept unquoted names or trailing text.
            r.setLenient(false);
            e = ELEMENT.read(r);
            if (r.peek() != JsonToken.END_DOCUMENT) {
                throw new JsonParseException("text after the JSON value");
            }
        } catch (JsonParseException | IOException | IllegalStateException ex) {
            throw new IllegalArgumentException("not valid JSON" + column(rootCause(ex)) + "; expected "
                    + "{\"from\":\"ns/name\",\"to\":\"ns/name\",\"port\":8443,\"method\":\"POST\",\"path\":\"/x\"}");
        }
        if (!e.isJsonObject()) {
            throw new IllegalArgumentException("expected a JSON object {\"from\":..,\"to\":..,\"port\":..}, got " + e);
        }
        JsonObject o = e.getAsJsonObject();
        for (String key : o.keySet()) {
            if (!FIELDS.contains(key)) {
                throw new IllegalArgumentException("unknown field '" + key + "' (a query has from, to, port, method, path)");
            }
        }
        String from = workloadRef(o, "from");
        String to = workloadRef(o, "to");
        int port = port(o);
        String method = optionalString(o, "method");
        if (method != null && (method.isEmpty() || !method.chars().allMatch(c -> c > ' ' && c < 127))) {
            throw new IllegalArgumentException("'method' must be an HTTP method such as \"GET\", got \"" + method + "\"");
        }
        String path = optionalString(o, "path");
        if (path != null && !path.startsWith("/")) {
            throw new IllegalArgumentException("'path' must start with '/', got \"" + path + "\"");
        }
        return new Query(from, to, port, method, path);
    }

    /** Checks every query's workloads against the mesh; unknown ones are bad input, reported by line. */
    public static List<LineError> unknownWorkloads(String file, List<Line> lines, Checker checker) {
        var errors = new ArrayList<LineError>();
        for (Line l : lines) {
            for (String[] ref : new String[][] {{"from", l.query().from()}, {"to", l.query().to()}}) {
                if (!checker.knows(ref[1])) {
                    errors.add(new LineError(file, l.number(), "unknown " + ref[0] + " workload '" + ref[1] + "'"));
                }
            }
        }
        return errors;
    }

    /** Answers every query, one JSON line each, in order. */
    public static void answer(Checker checker, List<Line> lines, Writer out) throws IOException {
        for (Line l : lines) {
            out.write(toJson(l.query(), checker.check(l.query())));
            out.write('\n');
        }
    }

    /** The query's fields, then {@code decision}, {@code by} and, when a DryRun Deny matched, {@code wouldDenyBy}. */
    public static String toJson(Query q, Decision d) {
        var s = new StringWriter(128);
        try (JsonWriter w = new JsonWriter(s)) {
            w.setHtmlSafe(false);
            w.beginObject();
            w.name("from").value(q.from());
            w.name("to").value(q.to());
            w.name("port").value(q.port());
            if (q.method() != null) {
                w.name("method").value(q.method());
            }
            if (q.path() != null) {
                w.name("path").value(q.path());
            }
            w.name("decision").value(d.verdict().name());
            w.name("by").value(d.by());
            if (d.wouldDenyBy().isPresent()) {
                w.name("wouldDenyBy").value(d.wouldDenyBy().get());
            }
            w.endObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return s.toString();
    }

    private static String workloadRef(JsonObject o, String field) {
        JsonElement e = o.get(field);
        if (e == null || e.isJsonNull()) {
            throw new IllegalArgumentException("missing '" + field + "' (a workload as \"namespace/name\")");
        }
        if (!(e instanceof JsonPrimitive p) || !p.isString()) {
            throw new IllegalArgumentException("'" + field + "' must be a string \"namespace/name\", got " + e);
        }
        String v = p.getAsString();
        int slash = v.indexOf('/');
        if (slash <= 0 || slash == v.length() - 1 || v.indexOf('/', slash + 1) >= 0) {
            throw new IllegalArgumentException("'" + field + "' must be \"namespace/name\", got \"" + v + "\"");
        }
        return v;
    }

    private static int port(JsonObject o) {
        JsonElement e = o.get("port");
        if (e == null || e.isJsonNull()) {
            throw new IllegalArgumentException("missing 'port' (a number from 1 to 65535)");
        }
        if (!(e instanceof JsonPrimitive p) || !p.isNumber()) {
            throw new IllegalArgumentException("'port' must be a number from 1 to 65535, got " + e);
        }
        BigDecimal v;
        try {
            v = p.getAsBigDecimal();
        } catch (NumberFormatException ex) {
            throw new IllegalArgumentException("'port' must be a number from 1 to 65535, got " + e);
        }
        if (v.stripTrailingZeros().scale() > 0 || v.compareTo(BigDecimal.ONE) < 0
                || v.compareTo(BigDecimal.valueOf(65535)) > 0) {
            throw new IllegalArgumentException("'port' must be a whole number from 1 to 65535, got " + e);
        }
        return v.intValueExact();
    }

    private static String optionalString(JsonObject o, String field) {
        JsonElement e = o.get(field);
        if (e == null || e.isJsonNull()) {
            return null;
        }
        if (!(e instanceof JsonPrimitive p) || !p.isString()) {
            throw new IllegalArgumentException("'" + field + "' must be a string, got " + e);
        }
        return p.getAsString();
    }

    /** Gson's messages advise leniency; keep only where the text went wrong. */
    private static String column(String gsonMessage) {
        var m = java.util.regex.Pattern.compile("column (\\d+)").matcher(gsonMessage);
        return m.find() ? " at column " + m.group(1) : " (" + gsonMessage + ")";
    }

    private static String rootCause(Throwable t) {
        while (t.getCause() != null) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return m == null ? t.getClass().getSimpleName() : m;
    }
}
