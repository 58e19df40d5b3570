package dev.septa.sidecar.relay;

import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import java.io.IOException;

/**
 * The agent's one channel to the control plane, shared by every relayed stream (HTTP/2 multiplexes them: a grpc-java
 * workload opens one ADS stream per {@code xds:///} target and one for its servers, which would otherwise be as many
 * TLS connections). Credentials are still chosen per stream ({@link UpstreamCredentials#choose()}): while they are
 * what the channel was built with, the channel is reused; when they changed (the token gave way to an SVID, the SVID
 * was renewed, the trust anchors moved) a new channel is built for this and later streams, and the old one is shut
 * down gracefully, so streams still on it run on until they end and then reconnect on the new one.
 */
final class UpstreamChannel implements AutoCloseable {
    /** A channel and what a stream on it must send: the headers (the bearer token, if any) and how it authenticates. */
    record Lease(ManagedChannel channel, Metadata headers, String authentication) { }

    private final UpstreamCredentials credentials;
    private ManagedChannel channel; // guarded by this
    private String fingerprint; // guarded by this
    private boolean closed; // guarded by this

    UpstreamChannel(UpstreamCredentials credentials) {
        this.credentials = credentials;
    }

    /**
     * The channel for a new stream. Its reconnect backoff is reset: the relay's own backoff decides when a stream
     * is retried, as when every stream had its own fresh channel.
     */
    synchronized Lease lease() throws IOException {
        if (closed) {
            throw new IllegalStateException("the relay is closed");
        }
        UpstreamCredentials.Chosen chosen = credentials.choose();
        if (channel == null || !chosen.fingerprint().equals(fingerprint)) {
            ManagedChannel old = channel;
            var endpoint = credentials.endpoint();
            channel = Grpc.newChannelBuilderForAddress(endpoint.host(), endpoint.port(), chosen.credentials()).build();
            fingerprint = chosen.fingerprint();
            if (old != null) {
                old.shutdown();
            }
        } else {
            channel.resetConnectBackoff();
        }
        return new Lease(channel, chosen.headers(), chosen.authentication());
    }

    /** The channel streams are leased now (tests: it stays the same while the credentials do). */
    synchronized ManagedChannel current() {
        return channel;
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (channel != null) {
            channel.shutdownNow();
        }
    }
}
