package dev.septa.policy.ir;

/** A source identity: an exact SPIFFE ID (a segment member) or a prefix (every workload of a namespace). */
public record SourcePrincipal(String value, boolean prefix) implements Comparable<SourcePrincipal> {
    @Override
    public int compareTo(SourcePrincipal o) {
        int c = Boolean.compare(prefix, o.prefix);
        return c != 0 ? c : value.compareTo(o.value);
    }
}
