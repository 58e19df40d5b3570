package dev.septa.policy.model;

/** A segment named by an intent: {@code name} resolves in the intent's namespace, {@code ns/name} in another. */
public record SegmentRef(String namespace, String name) {
    @Override
    public String toString() {
        return namespace + "/" + name;
    }
}
