package dev.septa.policy.model;


/** A finding about the input, printed as {@code file:line:col: error: message}. Errors reject the whole input; warnings do not. */
public record Diagnostic(Severity severity, Source source, String message) {
    public enum Severity { ERROR, WARNING }

    public static Diagnostic error(Source source, String message) {
        return new Diagnostic(Severity.ERROR, source, message);
    }

    public static Diagnostic warning(Source source, String message) {
        return new Diagnostic(Severity.WARNING, source, message);
    }

    public boolean isError() {
        return severity == Severity.ERROR;
    }

    @Override
    public String toString() {
        return source + ": " + severity.name().toLowerCase() + ": " + message;
    }
}
