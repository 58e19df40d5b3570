package dev.septa.controlplane.quarantine;

import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.model.Quarantine;
import dev.septa.policy.parse.InputFile;
import dev.septa.policy.parse.MeshParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The quarantines ordered through the HTTP API (local mode), kept in {@code STATE/quarantines.yaml} as Septa YAML
 * ({@code kind: Quarantine}), so that the file is itself an input of the compiler and a restart keeps them. Each
 * change writes a temporary file and renames it over the old one (a reader sees the old or the new file, never half
 * of one). A change first reaches the disk, then memory, then {@link #onChange}: what is enforced was persisted.
 * Thread-safe.
 */
public final class QuarantineStore {
    public static final String FILE = "quarantines.yaml";
    private static final String ANNOTATION_SINCE = "septa.dev/quarantined-at";

    private final Path file;
    private final String inputName;
    private volatile Map<String, QuarantineOrder> orders;
    private volatile InputFile input;
    private volatile Runnable onChange = () -> { };

    private QuarantineStore(Path file, Map<String, QuarantineOrder> orders) {
        this.file = file;
        this.inputName = file.toString();
        this.orders = Map.copyOf(orders);
        this.input = new InputFile(inputName, render(orders.values()));
    }

    /**
     * Reads {@code stateDir/quarantines.yaml}, if there is one. A file that does not parse (edited by hand) is refused
     * with its {@code file:line:col} errors: starting without the quarantines it held would release them silently.
     */
    public static QuarantineStore open(Path stateDir) throws IOException {
        Path file = stateDir.resolve(FILE);
        Map<String, QuarantineOrder> orders = new TreeMap<>();
        if (Files.exists(file)) {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            dev.septa.policy.parse.ParseResult parsed = MeshParser.parse(List.of(new InputFile(file.toString(), text)));
            List<String> errors = parsed.diagnostics().stream().filter(Diagnostic::isError).map(Diagnostic::toString).toList();
            if (!errors.isEmpty()) {
                throw new IOException("the quarantines in " + file + " do not parse (fix or remove the file):\n  " + String.join("\n  ", errors));
            }
            for (Quarantine q : parsed.mesh().quarantines()) {
                orders.put(q.target(), new QuarantineOrder(q.target(), q.reason(),
                        q.allowFrom() == null ? null : q.allowFrom().toString(), sinceOf(text, q)));
            }
        }
        return new QuarantineStore(file, orders);
    }

    /** The instant {@link #render} wrote for this quarantine; null for a file written otherwise (the model keeps no annotations). */
    private static Instant sinceOf(String text, Quarantine q) {
        Matcher m = Pattern.compile("metadata: \\{name: " + Pattern.quote(q.metadata().name()) + ", namespace: "
                + Pattern.quote(q.metadata().namespace()) + ", annotations: \\{\"" + Pattern.quote(ANNOTATION_SINCE) + "\": \"([^\"]{1,40})\"\\}\\}")
                .matcher(text);
        try {
            return m.find() ? Instant.parse(m.group(1)) : null;
        } catch (java.time.DateTimeException e) {
            return null;
        }
    }

    /** Called after every change (the control plane recompiles at once instead of at its next poll). */
    public void onChange(Runnable r) {
        onChange = r;
    }

    /** The orders, by workload id. */
    public Map<String, QuarantineOrder> orders() {
        return orders;
    }

    /** The file as the compiler reads it. */
    public InputFile input() {
        return input;
    }

    /** Adds or replaces the quarantine of {@code order.workload()}; persisted before it returns. */
    public synchronized void put(QuarantineOrder order) throws IOException {
        Map<String, QuarantineOrder> next = new TreeMap<>(orders);
        next.put(order.workload(), order);
        save(next);
    }

    /** Removes the quarantine of {@code workload}; empty when there was none. */
    public synchronized Optional<QuarantineOrder> release(String workload) throws IOException {
        QuarantineOrder old = orders.get(workload);
        if (old == null) {
            return Optional.empty();
        }
        Map<String, QuarantineOrder> next = new TreeMap<>(orders);
        next.remove(workload);
        save(next);
        return Optional.of(old);
    }

    private void save(Map<String, QuarantineOrder> next) throws IOException {
        String text = render(next.values());
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, FILE, ".tmp");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        orders = Map.copyOf(next);
        input = new InputFile(inputName, text);
        onChange.run();
    }

    /** Septa YAML, one {@code Quarantine} per order, named after its workload; every value checked by {@link QuarantineOrder#problem}. */
    static String render(java.util.Collection<QuarantineOrder> orders) {
        StringBuilder out = new StringBuilder("# Quarantines in force, written by the control plane (septa quarantine). Release with\n"
                + "# 'septa quarantine --release NS/NAME' rather than by editing this file.\n");
        for (QuarantineOrder o : orders) {
            out.append("---\napiVersion: septa.dev/v1alpha1\nkind: Quarantine\n")
                    .append("metadata: {name: ").append(o.name()).append(", namespace: ").append(o.namespace());
            if (o.since() != null) {
                out.append(", annotations: {\"").append(ANNOTATION_SINCE).append("\": \"").append(o.since()).append("\"}");
            }
            out.append("}\nspec:\n  workload: ").append(o.name()).append("\n  reason: ").append(quoted(o.reason())).append('\n');
            if (o.allowFrom() != null) {
                out.append("  allowFrom: ").append(o.allowFromQualified()).append('\n');
            }
        }
        return out.toString();
    }

    /** A YAML double-quoted scalar; a reason is printable ASCII, so only the quote and the backslash need escaping. */
    private static String quoted(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
