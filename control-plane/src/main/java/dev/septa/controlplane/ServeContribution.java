package dev.septa.controlplane;

/**
 * A part of {@code septa serve} beyond the core and its HTTP API, Kubernetes mode for one: given to
 * {@link ControlPlaneOptions.Builder#contribute}, it is wired by the composition root ({@link ControlPlane#start}):
 * {@link #beforeStart} before the xDS server starts (to add gRPC services on its port or mesh listeners),
 * {@link #started} once the control plane serves (to start what needs the CA and the first mesh), and
 * {@link #close} after the control plane has stopped (its publisher must not read a source being closed).
 */
public interface ServeContribution extends AutoCloseable {

    default void beforeStart(ControlPlaneCore core) {
    }

    /** @throws StartException naming what could not be started; the control plane is then stopped. */
    default void started(ControlPlaneCore core) throws StartException {
    }

    @Override
    default void close() {
    }

    /** A contribution could not start; the message says which part ("cannot serve the webhook on HOST:PORT"). */
    final class StartException extends RuntimeException {
        public StartException(String what, Throwable cause) {
            super(what, cause);
        }
    }
}
