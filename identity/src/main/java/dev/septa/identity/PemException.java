package dev.septa.identity;

/**
 * Malformed or unexpected PEM input; the message names the source and line. An {@link IllegalArgumentException}:
 * the input is wrong, and the callers that report bad input (the CLI's exit 2) catch it as such.
 */
public final class PemException extends IllegalArgumentException {
    public PemException(String message) {
        super(message);
    }
}
