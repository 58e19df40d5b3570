package dev.septa.policy.model;

/** Where the position of a parsed resource came from, for diagnostics ({@code file:line:col}); line and column are 1-based. */
public record Source(String file, int line, int column) {
    public static final Source UNKNOWN = new Source("<unknown>", 0, 0);

    @Override
    public String toString() {
        return file + ":" + line + ":" + column;
    }
}
