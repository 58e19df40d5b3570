package dev.septa.policy.ir;

/** A source identity: an exact SPIFFE ID (a segment member) or a prefix (every workload of a namespace). */
public record Principal(String value, boolean prefix) implements Comparable<Principal> {
    @Override
    public int compareTo(Principal o) {
        int c = Boolean.compare(prefix, o.prefix);
        return c != 0 ? c : value.compareTo(o.value);
    }
}
