package dev.septa.ca;

/**
 * Where a CA keeps itself and the state of a rotation of its signer ({@link RootRotation}): its own store, the
 * successor's store while a rotation runs, the store an operator stages a successor in, and the stage. Files
 * ({@link FileRotationStores}) in local mode; Kubernetes Secrets in Kubernetes mode (control-plane), so this
 * module knows nothing of Kubernetes.
 */
public interface RotationStores {

    /** The CA itself. */
    CaKeyStore current();

    /** The successor while a rotation runs; empty otherwise. */
    CaKeyStore next();

    /** Where an operator stages a successor for the control plane to pick up; empty otherwise. */
    CaKeyStore incoming();

    /** Cheap check, called every rotation tick: does {@link #incoming()} (probably) hold something? */
    boolean incomingPresent();

    /** The stage last written (a {@link RootRotation.Stage} name, lower case), or null. */
    String readStage();

    /** Replaces the stage atomically. */
    void writeStage(String stage);

    /** How an operator stages a successor here: a command to show in messages. */
    String stagingHint();
}
