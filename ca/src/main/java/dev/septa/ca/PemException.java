package dev.septa.ca;

/** Malformed or unexpected PEM input; the message names the source and line. */
public final class PemException extends CaException {
    public PemException(String message) {
        super(message);
    }
}
