package dev.septa.policy.parse;

import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.model.Source;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;

/**
 * Typed reads from SnakeYAML nodes that report, rather than throw: each getter records a diagnostic at the
 * node's position and returns null when the value has the wrong shape, so one pass finds every error.
 */
final class YamlReader {
    private final String file;
    private final List<Diagnostic> diagnostics;

    YamlReader(String file, List<Diagnostic> diagnostics) {
        this.file = file;
        this.diagnostics = diagnostics;
    }

    Source pos(Node node) {
        return node.getStartMark()
                .map(m -> new Source(file, m.getLine() + 1, m.getColumn() + 1))
                .orElse(new Source(file, 0, 0));
    }

    void error(Node node, String message) {
        diagnostics.add(Diagnostic.error(pos(node), message));
    }

    /** A mapping's fields by key, in order; reports duplicate keys, non-string keys and unknown fields ("did you mean"). */
    Fields fields(Node node, String where, Set<String> allowed) {
        if (!(node instanceof MappingNode mapping)) {
            error(node, "'" + where + "' must be a mapping, not " + describe(node));
            return null;
        }
        Map<String, Node> values = new LinkedHashMap<>();
        Map<String, Node> keys = new LinkedHashMap<>();
        Set<String> suggested = new java.util.HashSet<>();
        for (NodeTuple t : mapping.getValue()) {
            if (!(t.getKeyNode() instanceof ScalarNode key)) {
                error(t.getKeyNode(), "keys of '" + where + "' must be plain strings");
                continue;
            }
            String name = key.getValue();
            if (values.containsKey(name)) {
                error(key, "duplicate field '" + name + "' in '" + where + "'");
                continue;
            }
            if (allowed != null && !allowed.contains(name)) {
                Suggestions.closest(name, allowed).ifPresent(suggested::add);
                String hint = Suggestions.closest(name, allowed)
                        .map(s -> "; did you mean '" + s + "'?")
                        .orElse(" (expected one of: " + String.join(", ", new java.util.TreeSet<>(allowed)) + ")");
                error(key, "unknown field '" + name + "' in '" + where + "'" + hint);
                continue;
            }
            values.put(name, t.getValueNode());
            keys.put(name, key);
        }
        return new Fields(where, node, values, keys, suggested);
    }

    /** The fields of one mapping, with the reader's typed getters. */
    final class Fields {
        private final String where;
        private final Node node;
        private final Map<String, Node> values;
        private final Map<String, Node> keys;
        private final Set<String> suggested;

        private Fields(String where, Node node, Map<String, Node> values, Map<String, Node> keys, Set<String> suggested) {
            this.where = where;
            this.node = node;
            this.values = values;
            this.keys = keys;
            this.suggested = suggested;
        }

        Node node() {
            return node;
        }

        /** Whether an unknown field was reported as a misspelling of an allowed one ("did you mean"). */
        boolean misspelled() {
            return !suggested.isEmpty();
        }

        String where() {
            return where;
        }

        boolean has(String name) {
            return values.containsKey(name) && !isNull(values.get(name));
        }

        Node get(String name) {
            return values.get(name);
        }

        Node keyNode(String name) {
            return keys.get(name);
        }

        /** Reports a missing required field at the mapping's position. */
        boolean require(String name, String hint) {
            if (has(name)) {
                return true;
            }
            if (suggested.contains(name)) {
                return false; // already reported as a misspelling of this field
            }
            error(node, "missing required field '" + name + "' in '" + where + "'" + (hint == null ? "" : " (" + hint + ")"));
            return false;
        }

        String string(String name) {
            return has(name) ? YamlReader.this.string(values.get(name), where + "." + name) : null;
        }

        Integer integer(String name) {
            return has(name) ? YamlReader.this.integer(values.get(name), where + "." + name) : null;
        }

        List<Node> list(String name) {
            return has(name) ? YamlReader.this.list(values.get(name), where + "." + name) : null;
        }

        Map<String, String> stringMap(String name) {
            return has(name) ? YamlReader.this.stringMap(values.get(name), where + "." + name) : null;
        }
    }

    /** The scalar at {@code node} as one of {@code values}' keys; an error naming them (and the nearest) otherwise. */
    <E> E enumValue(Node node, String what, Map<String, E> values) {
        String s = string(node, what);
        if (s == null) {
            return null;
        }
        E e = values.get(s);
        if (e == null) {
            error(node, "invalid " + what + " '" + s + "'" + Suggestions.didYouMean(s, values.keySet())
                    + " (expected one of " + String.join(", ", values.keySet()) + ")");
        }
        return e;
    }

    String string(Node node, String what) {
        if (node instanceof ScalarNode s && (s.getTag().equals(Tag.STR) || !s.isPlain())) {
            return s.getValue();
        }
        error(node, "'" + what + "' must be a string, not " + describe(node)
                + (node instanceof ScalarNode ? " (quote it)" : ""));
        return null;
    }

    Integer integer(Node node, String what) {
        if (node instanceof ScalarNode s && s.getTag().equals(Tag.INT)) {
            try {
                String v = s.getValue().replace("_", "");
                boolean negative = v.startsWith("-");
                String digits = v.startsWith("-") || v.startsWith("+") ? v.substring(1) : v;
                int radix = digits.startsWith("0x") ? 16 : digits.startsWith("0o") ? 8 : 10;
                long parsed = Long.parseLong(radix == 10 ? digits : digits.substring(2), radix);
                return Math.toIntExact(negative ? -parsed : parsed);
            } catch (NumberFormatException | ArithmeticException e) {
                error(node, "'" + what + "' is too large: " + s.getValue());
                return null;
            }
        }
        error(node, "'" + what + "' must be an integer, not " + describe(node));
        return null;
    }

    List<Node> list(Node node, String what) {
        if (node instanceof SequenceNode seq) {
            return seq.getValue();
        }
        error(node, "'" + what + "' must be a list, not " + describe(node));
        return null;
    }

    List<String> stringList(Node node, String what) {
        List<Node> items = list(node, what);
        if (items == null) {
            return null;
        }
        List<String> out = new ArrayList<>();
        for (Node item : items) {
            String s = string(item, what + "[]");
            if (s != null) {
                out.add(s);
            }
        }
        return out;
    }

    Map<String, String> stringMap(Node node, String what) {
        Fields f = fields(node, what, null);
        if (f == null) {
            return null;
        }
        Map<String, String> out = new TreeMap<>();
        for (var e : f.values.entrySet()) {
            String v = string(e.getValue(), what + "." + e.getKey());
            if (v != null) {
                out.put(e.getKey(), v);
            }
        }
        return out;
    }

    static boolean isNull(Node node) {
        return node instanceof ScalarNode s && s.getTag().equals(Tag.NULL);
    }

    static String describe(Node node) {
        if (node instanceof MappingNode) {
            return "a mapping";
        }
        if (node instanceof SequenceNode) {
            return "a list";
        }
        if (node instanceof ScalarNode s) {
            Tag t = s.getTag();
            if (t.equals(Tag.INT)) {
                return "an integer (" + s.getValue() + ")";
            }
            if (t.equals(Tag.BOOL)) {
                return "a boolean (" + s.getValue() + ")";
            }
            if (t.equals(Tag.FLOAT)) {
                return "a number (" + s.getValue() + ")";
            }
            if (t.equals(Tag.NULL)) {
                return "null";
            }
            return "a string ('" + s.getValue() + "')";
        }
        return "an unknown node";
    }
}
