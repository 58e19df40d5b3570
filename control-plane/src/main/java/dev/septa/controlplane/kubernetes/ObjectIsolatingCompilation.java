package dev.septa.controlplane.kubernetes;

import dev.septa.controlplane.publish.MeshCompilation;
import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.model.Source;
import dev.septa.policy.parse.InputFile;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Kubernetes mode's compile: one bad object is set aside on its own instead of freezing the cluster's policy. The
 * compiler stays a pure function of its files; this class only chooses which version of each object (one
 * {@link InputFile} per object, {@link KubernetesObjectRenderer}) it is given, and never opens access by doing so:
 * <ul>
 *   <li>an object whose current version has an error, and that was in force before, is compiled in its
 *       <b>last valid version</b> (per-object last known good: a broken Deny intent keeps denying, a broken Segment
 *       keeps its members, a broken MeshConfig keeps its default action);</li>
 *   <li>an object that has never been valid is <b>not applied</b>: it never granted or denied anything, so leaving it
 *       out changes nothing that is in force;</li>
 *   <li>an object in force that fails only because of another one (an Intent naming a Segment that was deleted) keeps
 *       its version, and the deleted Segment's last valid version is kept in force for it: a deletion that would
 *       leave an intent in force unable to compile is set aside like a broken object;</li>
 *   <li>anything else (an error that names no object, an exception) rejects the whole input as local mode does, and
 *       the last good configuration stays in force.</li>
 * </ul>
 * The set-aside objects' errors come back as warnings ({@code k8s:NS/Intent/NAME:7:11: warning: set aside ...}) and
 * as {@link #verdicts()} (the CRs' status). Each retry changes at least one object for good (current version to last
 * valid or left out; a deletion undone), so there are at most twice as many compiles as objects, in practice one or
 * two; each is incremental (only the changed objects are parsed again). Calls are serialized (the publisher's thread).
 *
 * <p>The last valid versions are this replica's memory: two replicas that saw different histories may hold different
 * last valid versions of an object that is broken now (docs/kubernetes.md).
 */
public final class ObjectIsolatingCompilation implements MeshCompilation {
    /** What became of one object's {@code version} (its current one) in the latest compile. */
    public record Verdict(InputFile version, boolean accepted, InForce inForce, List<String> errors) {
        public Verdict {
            errors = List.copyOf(errors);
        }

        /** The first error, {@code k8s:NS/KIND/NAME:line:col: message}, for a status condition. */
        public String message() {
            return errors.isEmpty() ? "" : errors.getFirst();
        }
    }

    /** Which version of an object the configuration in force holds. */
    public enum InForce { CURRENT, LAST_VALID, NONE }

    private final MeshCompilation compiler;
    /** Object name → the version in the configuration last compiled without errors. */
    private Map<String, InputFile> lastValid = Map.of();
    private volatile Map<String, Verdict> verdicts = Map.of();

    public ObjectIsolatingCompilation(MeshCompilation compiler) {
        this.compiler = compiler;
    }

    @Override
    public synchronized CompileResult compile(List<InputFile> files) {
        Map<String, InputFile> current = new LinkedHashMap<>();
        files.forEach(f -> current.put(f.name(), f));
        Map<String, InputFile> candidate = new TreeMap<>(current);
        Map<String, Verdict> setAside = new TreeMap<>();
        Map<String, List<Diagnostic>> reasons = new HashMap<>();
        CompileResult first = null;
        for (int round = 0; round <= 2 * files.size() + 2; round++) {
            CompileResult result = compiler.compile(List.copyOf(candidate.values()));
            if (first == null) {
                first = result;
            }
            Map<String, List<Diagnostic>> errors = errorsByObject(result);
            if (!result.hasErrors() && result.mesh().isPresent()) {
                return accept(current, candidate, setAside, reasons, result);
            }
            if (errors == null || !errors.keySet().stream().allMatch(candidate::containsKey)) {
                break; // an error that names no object: rejected whole
            }
            // Segments and MeshConfigs first: an Intent naming a Segment set aside this round may be fine on its own.
            boolean progress = setAside(errors, current, candidate, setAside, reasons, false)
                    || setAside(errors, current, candidate, setAside, reasons, true);
            if (!progress) {
                progress = restoreDeletedSegments(current, candidate);
            }
            if (!progress) {
                break;
            }
        }
        verdicts = Map.of();
        return first;
    }

    /**
     * Sets aside each object of the wanted kind (Intents or the others) whose current version has errors and is not
     * the version in force: back to its last valid version, or left out when it has none. An object whose current
     * version is its last valid one fails through another object (a Segment set aside, deleted) and is kept.
     */
    private boolean setAside(Map<String, List<Diagnostic>> errors, Map<String, InputFile> current,
                             Map<String, InputFile> candidate, Map<String, Verdict> setAside,
                             Map<String, List<Diagnostic>> reasons, boolean intents) {
        boolean progress = false;
        for (var e : errors.entrySet()) {
            String name = e.getKey();
            InputFile now = current.get(name);
            InputFile valid = lastValid.get(name);
            if (name.contains("/Intent/") != intents || now == null || candidate.get(name) != now || now.equals(valid)) {
                continue;
            }
            List<String> messages = e.getValue().stream().map(d -> d.source() + ": " + d.message()).toList();
            reasons.put(name, e.getValue());
            if (valid != null) {
                candidate.put(name, valid);
                setAside.put(name, new Verdict(now, false, InForce.LAST_VALID, messages));
            } else {
                candidate.remove(name);
                setAside.put(name, new Verdict(now, false, InForce.NONE, messages));
            }
            progress = true;
        }
        return progress;
    }

    /**
     * Segments that were in force and are gone now, back at their last valid version: an intent in force that names one
     * would otherwise fail. Only Segments: a Segment grants nothing by itself, while restoring a deleted Intent would.
     */
    private boolean restoreDeletedSegments(Map<String, InputFile> current, Map<String, InputFile> candidate) {
        boolean restored = false;
        for (var e : lastValid.entrySet()) {
            if (!current.containsKey(e.getKey()) && !candidate.containsKey(e.getKey()) && e.getKey().contains("/Segment/")) {
                candidate.put(e.getKey(), e.getValue());
                restored = true;
            }
        }
        return restored;
    }

    /** Error diagnostics by the object they name; null when one names none. */
    private static Map<String, List<Diagnostic>> errorsByObject(CompileResult result) {
        Map<String, List<Diagnostic>> byObject = new TreeMap<>();
        for (Diagnostic d : result.diagnostics()) {
            if (!d.isError()) {
                continue;
            }
            if (d.source() == null || d.source().equals(Source.UNKNOWN) || d.source().file() == null) {
                return null;
            }
            byObject.computeIfAbsent(d.source().file(), k -> new ArrayList<>()).add(d);
        }
        return byObject;
    }

    private CompileResult accept(Map<String, InputFile> current, Map<String, InputFile> candidate,
                                 Map<String, Verdict> setAside, Map<String, List<Diagnostic>> reasons,
                                 CompileResult result) {
        lastValid = Map.copyOf(candidate);
        Map<String, Verdict> all = new HashMap<>();
        for (var e : current.entrySet()) {
            all.put(e.getKey(), setAside.getOrDefault(e.getKey(), new Verdict(e.getValue(), true, InForce.CURRENT, List.of())));
        }
        verdicts = Map.copyOf(all);
        if (setAside.isEmpty() && candidate.keySet().equals(current.keySet())) {
            return result;
        }
        List<Diagnostic> diagnostics = new ArrayList<>(result.diagnostics());
        for (var e : setAside.entrySet()) {
            String what = e.getValue().inForce() == InForce.LAST_VALID
                    ? "set aside, its last valid version stays in force: " : "set aside, not applied (it has never been valid): ";
            for (Diagnostic error : reasons.get(e.getKey())) {
                diagnostics.add(Diagnostic.warning(error.source(), what + error.message()));
            }
        }
        for (String name : candidate.keySet()) {
            if (!current.containsKey(name)) {
                diagnostics.add(Diagnostic.warning(new Source(name, 1, 1), "deleted, but kept in force at its last valid"
                        + " version: an intent in force still names it (delete or change that intent first)"));
            }
        }
        diagnostics.sort(dev.septa.policy.parse.MeshParser.ORDER);
        return new CompileResult(diagnostics, result.mesh());
    }

    /**
     * Object name ({@code k8s:NS/KIND/NAME}) → what became of it in the latest compile that put a configuration in
     * force; empty when the latest input was rejected whole.
     */
    public Map<String, Verdict> verdicts() {
        return verdicts;
    }

    @Override
    public String lastCompileDetail() {
        return compiler.lastCompileDetail();
    }
}
