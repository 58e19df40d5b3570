package dev.septa.ca;

/** The CA's key store is missing parts, corrupt or unsafe; it is never silently replaced. */
public final class CaStoreException extends CaException {
    public CaStoreException(String message) {
        super(message);
    }

    public CaStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
