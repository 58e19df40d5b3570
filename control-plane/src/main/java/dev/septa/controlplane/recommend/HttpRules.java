package dev.septa.controlplane.recommend;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What one recommended rule admits on one port: any request ({@link #ANY}: TCP, or calls whose path was not reported),
 * or the observed requests, as {@code http} entries (one per set of methods sharing the same paths, so that the
 * methods x paths product of an entry admits nothing that was not seen). A path is exact, or a prefix {@code /a/b/*}.
 */
record HttpRules(boolean any, SortedSet<ObservedEdge.Request> requests, SortedSet<String> prefixes) {
    static final HttpRules ANY = new HttpRules(true, new TreeSet<>(), new TreeSet<>());

    static HttpRules of(SortedSet<ObservedEdge.Request> requests) {
        return new HttpRules(false, requests, new TreeSet<>());
    }

    /** A prefix entry {@code METHOD|/parent/*} ({@code -} for no method condition). */
    static String prefixKey(String method, String prefix) {
        return (method == null ? "-" : method) + "|" + prefix;
    }

    boolean admits(ObservedEdge.Request r) {
        if (any) {
            return true;
        }
        if (r == null) {
            return false; // an entry with conditions never matches a request of unknown method and path
        }
        if (requests.contains(r) || requests.contains(new ObservedEdge.Request(null, r.path()))) {
            return true; // an entry without a method condition admits every method on its paths
        }
        for (String p : prefixes) {
            int bar = p.indexOf('|');
            String m = p.substring(0, bar);
            String prefix = p.substring(bar + 1, p.length() - 1);
            boolean methodOk = m.equals("-") || m.equals(r.method());
            if (methodOk && r.path().startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Folds sibling paths ({@code /a/X}, {@code /a/Y} seen with one method) into {@code /a/*} where at least
     * {@code minSiblings} were seen and the prefix admits none of {@code denied}.
     * @param widenedBy filled with each prefix used and the sibling paths it was folded from
     */
    HttpRules foldPrefixes(int minSiblings, List<ObservedEdge.Request> denied, Map<String, List<String>> widenedBy) {
        if (any) {
            return this;
        }
        Map<String, List<ObservedEdge.Request>> byParent = new TreeMap<>();
        for (ObservedEdge.Request r : requests) {
            int slash = r.path().lastIndexOf('/');
            if (slash > 0) { // never fold into "/*": that is every path
                byParent.computeIfAbsent(prefixKey(r.method(), r.path().substring(0, slash + 1) + "*"), k -> new ArrayList<>()).add(r);
            }
        }
        SortedSet<ObservedEdge.Request> kept = new TreeSet<>(requests);
        SortedSet<String> prefixes = new TreeSet<>(this.prefixes);
        for (var e : byParent.entrySet()) {
            HttpRules prefixOnly = new HttpRules(false, new TreeSet<>(), new TreeSet<>(List.of(e.getKey())));
            if (e.getValue().size() >= minSiblings && denied.stream().noneMatch(prefixOnly::admits)) {
                e.getValue().forEach(kept::remove);
                prefixes.add(e.getKey());
                widenedBy.put(e.getKey(), e.getValue().stream().map(ObservedEdge.Request::path).toList());
            }
        }
        return new HttpRules(false, kept, prefixes);
    }

    /** The {@code http} entries: methods (empty: any) with their paths, entries with equal paths merged. */
    List<Map.Entry<List<String>, List<String>>> entries() {
        Map<String, SortedSet<String>> pathsByMethod = new TreeMap<>();
        requests.forEach(r -> pathsByMethod.computeIfAbsent(r.method() == null ? "-" : r.method(), m -> new TreeSet<>()).add(r.path()));
        prefixes.forEach(p -> {
            int bar = p.indexOf('|');
            pathsByMethod.computeIfAbsent(p.substring(0, bar), m -> new TreeSet<>()).add(p.substring(bar + 1));
        });
        Map<List<String>, List<String>> methodsByPaths = new java.util.LinkedHashMap<>();
        List<Map.Entry<List<String>, List<String>>> out = new ArrayList<>();
        pathsByMethod.forEach((m, paths) -> {
            if (m.equals("-")) {
                // No method reported: only an entry without a method condition matches such a request.
                out.add(Map.entry(List.of(), List.copyOf(paths)));
            } else {
                methodsByPaths.computeIfAbsent(List.copyOf(paths), p -> new ArrayList<>()).add(m);
            }
        });
        methodsByPaths.forEach((paths, methods) -> out.add(Map.entry(List.copyOf(methods), paths)));
        return out;
    }

    /** A stable text of what is admitted, to tell rules apart and merge equal ones. */
    String key() {
        return any ? "*" : requests + "+" + prefixes;
    }
}
