package dev.septa.ca;

/** Signing material (a stored root or an operator-supplied intermediate) that fails one of the load checks. */
public final class InvalidSigningCaException extends CaException {
    public InvalidSigningCaException(String message) {
        super(message);
    }
}
