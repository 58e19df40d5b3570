package dev.septa.ca;

/**
 * Base of every error the CA reports. Messages are written for operators (what is wrong, where, what would be
 * right) and never contain private key material.
 */
public class CaException extends RuntimeException {
    public CaException(String message) {
        super(message);
    }

    public CaException(String message, Throwable cause) {
        super(message, cause);
    }
}
