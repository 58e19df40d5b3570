package dev.septa.controlplane.audit;

import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * One line of the audit log: {@code {"time":…,"kind":…, fields…}} in the order the fields were added, so that lines
 * read the same way whoever wrote them (docs/audit.md lists the fields of each kind). Values are strings, numbers,
 * booleans, lists of strings or lists of nested records; nulls are left out.
 */
public final class AuditRecord {
    private final Instant time;
    private final String kind;
    private final List<Object[]> fields = new ArrayList<>();

    private AuditRecord(Instant time, String kind) {
        this.time = time;
        this.kind = kind;
    }

    public static AuditRecord of(String kind) {
        return at(Instant.now(), kind);
    }

    public static AuditRecord at(Instant time, String kind) {
        return new AuditRecord(time, kind);
    }

    /** A nested object (a file or an object of a policy change); its time and kind are not written. */
    public static AuditRecord nested() {
        return new AuditRecord(null, null);
    }

    public AuditRecord put(String name, Object value) {
        if (value != null) {
            fields.add(new Object[] {name, value});
        }
        return this;
    }

    public String kind() {
        return kind;
    }

    public Instant time() {
        return time;
    }

    /** The JSON line, without its line break. */
    public String line() {
        StringWriter out = new StringWriter(256);
        try (JsonWriter json = new JsonWriter(out)) {
            json.setHtmlSafe(false);
            write(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not fail
        }
        return out.toString();
    }

    private void write(JsonWriter json) throws IOException {
        json.beginObject();
        if (time != null) {
            json.name("time").value(time.toString());
        }
        if (kind != null) {
            json.name("kind").value(kind);
        }
        for (Object[] f : fields) {
            json.name((String) f[0]);
            value(json, f[1]);
        }
        json.endObject();
    }

    private static void value(JsonWriter json, Object v) throws IOException {
        switch (v) {
            case AuditRecord r -> r.write(json);
            case Boolean b -> json.value(b);
            case Number n -> json.value(n);
            case Collection<?> c -> {
                json.beginArray();
                for (Object o : c) {
                    value(json, o);
                }
                json.endArray();
            }
            default -> json.value(v.toString());
        }
    }

    @Override
    public String toString() {
        return line();
    }
}
