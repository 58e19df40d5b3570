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

    /** {@code FILE:LINE: message}, always one line: control characters that a message quotes from the input are escaped. */
    public record LineError(String file, int line, String message) {
        public LineError {
            message = dev.septa.policy.model.Printable.escape(message);
        }

        @Override
        public String toString() {
            return file + ":" + line + ": " + message;
        }
    }

    /** The queries, the errors (any error: answer nothing) and warnings ({@code FILE:LINE: warning: ...}). */
    public record Parsed(List<Line> queries, List<LineError> errors, List<LineError> warnings) { }

    /** Reads every line of {@code in}; {@code file} names it in errors ({@code <stdin>} for standard input). */
    public static Parsed parse(String file, BufferedReader in) throws IOException {
        var queries = new ArrayList<Line>();
        var errors = new ArrayList<LineError>();
        var warnings = new ArrayList<LineError>();
        String text;
        int n = 0;
        while ((text = in.readLine()) != null) {
            n++;
            if (n == 1 && text.startsWith("\uFEFF")) {
                text = text.substring(1); // a byte order mark some editors write
            }
            if (text.isBlank()) {
                continue;
            }
            try {
                Query q = parseLine(text);
                queries.add(new Line(n, q));
                String upper = q.method() == null ? null : q.method().toUpperCase(java.util.Locale.ROOT);
                if (upper != null && !upper.equals(q.method()) && STANDARD_METHODS.contains(upper)) {
                    warnings.add(new LineError(file, n, "warning: method '" + q.method() + "' is not '" + upper
                            + "': methods are case-sensitive, and intents name them in upper case"));
                }
            } catch (IllegalArgumentException e) {
                errors.add(new LineError(file, n, e.getMessage()));
            }
        }
        return new Parsed(queries, errors, warnings);
    }

    private static final Set<String> STANDARD_METHODS =
            Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT");
    private static final String EXAMPLE =
            "{\"from\":\"ns/name\",\"to\":\"ns/name\",\"port\":8443,\"method\":\"POST\",\"path\":\"/x\"}";

    /** One line; throws IllegalArgumentException with a message that says what would be right. */
    public static Query parseLine(String text) {
        JsonObject o = new JsonObject();
        String twice = null;
        try (JsonReader r = new JsonReader(new StringReader(text))) {
            // Strict: Gson's JsonParser is lenient and would accept unquoted names or trailing text.
            r.setLenient(false);
            if (r.peek() != JsonToken.BEGIN_OBJECT) {
                JsonElement e = ELEMENT.read(r);
                throw new IllegalArgumentException("expected a JSON object {\"from\":..,\"to\":..,\"port\":..}, got " + e);
            }
            r.beginObject();
            while (r.hasNext()) {
                String name = r.nextName();
                if (o.has(name) && twice == null) {
                    twice = name;
                }
                o.add(name, ELEMENT.read(r));
            }
            r.endObject();
            if (r.peek() != JsonToken.END_DOCUMENT) {
                throw new JsonParseException("text after the JSON value");
            }
        } catch (java.io.EOFException ex) {
            throw new IllegalArgumentException("not valid JSON: the line ends inside the object (a missing '}' or '\"'?); "
                    + "expected one object per line, such as " + EXAMPLE);
        } catch (JsonParseException | IOException | IllegalStateException ex) {
            throw new IllegalArgumentException("not valid JSON" + column(rootCause(ex), text) + "; expected one object per "
                    + "line, such as " + EXAMPLE);
        }
        if (twice != null) {
            throw new IllegalArgumentException("'" + twice + "' is given twice; give each field once");
        }
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
        var messages = new java.util.HashMap<String, String>(); // a bad reference tends to repeat on many lines
        for (Line l : lines) {
            for (String[] ref : new String[][] {{"from", l.query().from()}, {"to", l.query().to()}}) {
                if (!checker.knows(ref[1])) {
                    errors.add(new LineError(file, l.number(), messages.computeIfAbsent(ref[0] + " " + ref[1],
                            k -> checker.unknownWorkload(ref[1], ref[0]))));
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
        return asciiOnly(s.toString());
    }

    /**
     * Non-ASCII characters as JSON {@code \\uXXXX} escapes: the same string to any JSON reader, and safe on a
     * console whose encoding is not UTF-8 (the JVM would print '?' there).
     */
    private static String asciiOnly(String json) {
        if (json.chars().allMatch(c -> c < 0x7F)) {
            return json;
        }
        var out = new StringBuilder(json.length() + 16);
        json.chars().forEach(c -> {
            if (c < 0x7F) {
                out.append((char) c);
            } else {
                out.append(String.format("\\u%04x", c));
            }
        });
        return out.toString();
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
        if (e instanceof JsonPrimitive p && p.isString() && p.getAsString().strip().matches("\\d{1,5}")) {
            throw new IllegalArgumentException("'port' must be a number, not a string: write \"port\":"
                    + p.getAsString().strip() + " instead of \"port\":" + e);
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

    /** Gson's messages advise leniency; keep only where the text went wrong, and show the text there. */
    private static String column(String gsonMessage, String text) {
        var m = java.util.regex.Pattern.compile("column (\\d+)").matcher(gsonMessage);
        if (!m.find()) {
            return " (" + gsonMessage + ")";
        }
        int col = Integer.parseInt(m.group(1));
        int at = Math.min(Math.max(col - 1, 0), text.length());
        String near = text.substring(Math.max(0, at - 10), Math.min(text.length(), at + 3));
        return " at column " + col + " (near '" + near + "')";
    }

    private static String rootCause(Throwable t) {
        while (t.getCause() != null) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return m == null ? t.getClass().getSimpleName() : m;
    }
}
