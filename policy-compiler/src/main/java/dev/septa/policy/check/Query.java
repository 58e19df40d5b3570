package dev.septa.policy.check;

import java.util.Objects;

/**
 * One {@code septa check} question: may workload {@code from} ({@code ns/name}) reach workload {@code to} on
 * {@code port}, with this HTTP method and path? A null method or path is unknown: it matches only rules that do
 * not constrain it (decision record 0001).
 */
public record Query(String from, String to, int port, String method, String path) {
    public Query {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
    }

    public static Query of(String from, String to, int port) {
        return new Query(from, to, port, null, null);
    }
}
