package dev.septa.policy.check;

/** A query names a workload the mesh does not have: bad input (exit 2), not a policy decision. */
public final class UnknownWorkloadException extends IllegalArgumentException {
    public UnknownWorkloadException(String message) {
        super(message);
    }
}
