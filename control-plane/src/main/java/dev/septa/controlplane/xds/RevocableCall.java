package dev.septa.controlplane.xds;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;

/**
 * An xDS call the control plane can end from outside the stream (a node whose identity no longer admits the
 * stream's principal). ServerCall is not thread-safe, so every send and close goes through one lock; once revoked,
 * whatever the discovery server still tries to send is dropped.
 */
final class RevocableCall<Q, R> extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
    private boolean closed;

    RevocableCall(ServerCall<Q, R> delegate) {
        super(delegate);
    }

    /** Ends the call with {@code status} unless it has ended already. */
    synchronized void revoke(Status status) {
        if (!closed) {
            closed = true;
            super.close(status, new Metadata());
        }
    }

    @Override
    public synchronized void sendHeaders(Metadata headers) {
        if (!closed) {
            super.sendHeaders(headers);
        }
    }

    @Override
    public synchronized void sendMessage(R message) {
        if (!closed) {
            super.sendMessage(message);
        }
    }

    @Override
    public synchronized void close(Status status, Metadata trailers) {
        if (!closed) {
            closed = true;
            super.close(status, trailers);
        }
    }
}
