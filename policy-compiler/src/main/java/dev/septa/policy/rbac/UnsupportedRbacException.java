package dev.septa.policy.rbac;

/**
 * The RBAC configuration uses a matcher this evaluator does not implement. Raised instead of guessing, so that
 * {@code septa check} never reports a decision Envoy would not make.
 */
public final class UnsupportedRbacException extends RuntimeException {
    public UnsupportedRbacException(String where, String what) {
        super(where + ": unsupported RBAC " + what + " (septa check cannot evaluate it)");
    }
}
