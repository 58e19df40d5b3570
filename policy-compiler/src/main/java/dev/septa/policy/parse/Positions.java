package dev.septa.policy.parse;

import dev.septa.policy.model.Source;
import java.util.IdentityHashMap;
import java.util.Map;

/** Where each decoded object (a resource's metadata, a segment reference) was written, for cross-resource diagnostics. */
final class Positions {
    private final Map<Object, Source> byObject = new IdentityHashMap<>();

    void put(Object o, Source source) {
        byObject.put(o, source);
    }

    void putAll(Positions other) {
        byObject.putAll(other.byObject);
    }

    Source of(Object o, Source fallback) {
        return byObject.getOrDefault(o, fallback);
    }
}
