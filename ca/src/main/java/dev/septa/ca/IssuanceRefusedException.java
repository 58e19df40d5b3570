package dev.septa.ca;

/** The CA refused to issue; {@link #reason()} classifies it, the message explains it. */
public final class IssuanceRefusedException extends CaException {
    private final RefusalReason reason;

    public IssuanceRefusedException(RefusalReason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public RefusalReason reason() {
        return reason;
    }
}
