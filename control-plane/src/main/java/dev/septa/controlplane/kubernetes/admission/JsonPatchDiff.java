package dev.septa.controlplane.kubernetes.admission;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * An RFC 6902 JSON patch that turns {@code from} into {@code to}: objects are diffed key by key; arrays keep their
 * common prefix and suffix, so entries inserted in front (the injector prepends its init containers) or appended
 * (volumes, env) become {@code add} operations with an index, and the entries already there are never rewritten.
 * Anything else is a {@code replace} of the smallest differing value. Not a minimal diff in general, only in the
 * shapes injection produces; correctness (apply(from, patch) == to) holds for any input.
 */
public final class JsonPatchDiff {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private JsonPatchDiff() {
    }

    public static ArrayNode diff(JsonNode from, JsonNode to) {
        List<ObjectNode> ops = new ArrayList<>();
        diff("", from, to, ops);
        return NODES.arrayNode().addAll(ops);
    }

    private static void diff(String path, JsonNode from, JsonNode to, List<ObjectNode> ops) {
        if (from.equals(to)) {
            return;
        }
        if (from.isObject() && to.isObject()) {
            for (Iterator<String> it = from.fieldNames(); it.hasNext(); ) {
                String key = it.next();
                if (!to.has(key)) {
                    ops.add(op("remove", path + "/" + escape(key), null));
                }
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = to.fields(); it.hasNext(); ) {
                var field = it.next();
                String child = path + "/" + escape(field.getKey());
                if (!from.has(field.getKey())) {
                    ops.add(op("add", child, field.getValue()));
                } else {
                    diff(child, from.get(field.getKey()), field.getValue(), ops);
                }
            }
            return;
        }
        if (from.isArray() && to.isArray()) {
            int prefix = 0;
            while (prefix < from.size() && prefix < to.size() && from.get(prefix).equals(to.get(prefix))) {
                prefix++;
            }
            int suffix = 0;
            while (suffix < from.size() - prefix && suffix < to.size() - prefix
                    && from.get(from.size() - 1 - suffix).equals(to.get(to.size() - 1 - suffix))) {
                suffix++;
            }
            int fromMiddle = from.size() - prefix - suffix;
            int toMiddle = to.size() - prefix - suffix;
            if (fromMiddle == 0) {
                for (int i = 0; i < toMiddle; i++) {
                    ops.add(op("add", path + "/" + (prefix + i), to.get(prefix + i)));
                }
                return;
            }
            if (fromMiddle == toMiddle) {
                for (int i = prefix; i < prefix + fromMiddle; i++) {
                    diff(path + "/" + i, from.get(i), to.get(i), ops);
                }
                return;
            }
        }
        ops.add(op("replace", path, to));
    }

    private static ObjectNode op(String name, String path, JsonNode value) {
        ObjectNode op = NODES.objectNode().put("op", name).put("path", path);
        if (value != null) {
            op.set("value", value);
        }
        return op;
    }

    /** RFC 6901: {@code ~} becomes {@code ~0}, {@code /} becomes {@code ~1} (annotation keys such as {@code septa.dev/status}). */
    static String escape(String key) {
        return key.replace("~", "~0").replace("/", "~1");
    }
}
