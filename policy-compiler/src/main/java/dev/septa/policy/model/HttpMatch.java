package dev.septa.policy.model;

import java.util.List;

/**
 * L7 conditions of a port rule. Empty {@code methods} means any method; empty {@code paths} any path.
 * A path is exact, or a prefix when it ends with {@code *} ({@code /v1/refunds/*} matches {@code /v1/refunds/42}).
 */
public record HttpMatch(List<String> methods, List<String> paths) {
    public HttpMatch {
        methods = methods == null ? List.of() : List.copyOf(methods);
        paths = paths == null ? List.of() : List.copyOf(paths);
    }
}
