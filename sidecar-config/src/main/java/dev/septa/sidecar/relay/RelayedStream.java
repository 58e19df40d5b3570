package dev.septa.sidecar.relay;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import io.grpc.SynchronizationContext;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One workload ADS stream and its upstream twin. The workload's stream outlives any number of upstream streams: when
 * the control plane goes away, the relay reconnects with jittered backoff (250 ms doubling to 15 s) and replays the
 * workload's latest request per type (its subscriptions and the versions it holds, nonces dropped), as Envoy itself
 * does on a new stream, so the workload gets its configuration again without noticing.
 *
 * <p>All state is touched in one {@link SynchronizationContext}; responses go downstream in upstream order.
 */
final class RelayedStream implements StreamObserver<DiscoveryRequest> {
    private static final long INITIAL_BACKOFF_MS = 250;
    private static final long MAX_BACKOFF_MS = 15_000;
    private static final String SECRET_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

    private final XdsRelay relay;
    private final StreamObserver<DiscoveryResponse> downstream;
    private final SynchronizationContext sync;
    /** The workload's latest request per type URL, in subscription order: what a new upstream stream replays. */
    private final Map<String, DiscoveryRequest> latest = new LinkedHashMap<>();
    private Node node;
    private Upstream upstream;
    private boolean reconnectScheduled;
    private boolean done;
    private long backoffMs = INITIAL_BACKOFF_MS;

    RelayedStream(XdsRelay relay, StreamObserver<DiscoveryResponse> downstream) {
        this.relay = relay;
        this.downstream = downstream;
        this.sync = new SynchronizationContext((thread, error) -> relay.listener().upstreamLost("relay error: " + error));
    }

    RelayedStream open() {
        return this;
    }

    @Override
    public void onNext(DiscoveryRequest request) {
        sync.execute(() -> accept(request));
    }

    @Override
    public void onError(Throwable error) {
        sync.execute(this::finish);
    }

    @Override
    public void onCompleted() {
        sync.execute(this::finish);
    }

    private void accept(DiscoveryRequest request) {
        if (done) {
            return;
        }
        if (SECRET_TYPE.equals(request.getTypeUrl())) {
            refuse(Status.PERMISSION_DENIED, "the relay does not serve secrets (SDS); read the agent's files with file_watcher");
            return;
        }
        if (request.hasNode() && !relay.nodeId().equals(request.getNode().getId())) {
            refuse(Status.PERMISSION_DENIED, "this relay serves node " + relay.nodeId() + " only, not " + request.getNode().getId());
            return;
        }
        if (node == null) {
            if (!request.hasNode()) {
                refuse(Status.INVALID_ARGUMENT, "the first request of a stream must carry the node");
                return;
            }
            node = request.getNode();
        }
        latest.put(request.getTypeUrl(), request);
        if (upstream != null) {
            upstream.send(request);
        } else if (!reconnectScheduled) {
            connect();
        }
    }

    private void connect() {
        reconnectScheduled = false;
        if (done) {
            return;
        }
        UpstreamChannel.Lease lease;
        try {
            lease = relay.upstream().lease();
        } catch (IOException | RuntimeException e) {
            lost("cannot authenticate to the control plane: " + e.getMessage());
            return;
        }
        var stub = AggregatedDiscoveryServiceGrpc.newStub(lease.channel())
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(lease.headers()));
        Upstream next = new Upstream(lease.authentication());
        upstream = next;
        next.requests = stub.streamAggregatedResources(next);
        for (DiscoveryRequest request : latest.values()) {
            // A new stream knows no nonce; the version tells the control plane what the workload already holds.
            next.send(request.toBuilder().clearResponseNonce().clearErrorDetail().build());
        }
    }

    private void lost(String reason) {
        if (upstream != null) {
            upstream.cancel(reason);
            upstream = null;
        }
        if (done || relay.closed()) {
            return;
        }
        relay.listener().upstreamLost(reason);
        long delay = (long) (backoffMs * (0.5 + ThreadLocalRandom.current().nextDouble() * 0.5));
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
        reconnectScheduled = true;
        sync.schedule(this::connect, delay, TimeUnit.MILLISECONDS, relay.scheduler());
    }

    private void refuse(Status status, String reason) {
        relay.listener().refused(reason);
        downstream.onError(status.withDescription(reason).asRuntimeException());
        finish();
    }

    private void finish() {
        done = true;
        if (upstream != null) {
            upstream.cancel("the workload's stream ended");
            upstream = null;
        }
    }

    /** One upstream ADS stream on the agent's shared channel (credentials are chosen per stream). */
    private final class Upstream implements StreamObserver<DiscoveryResponse> {
        final String authentication;
        StreamObserver<DiscoveryRequest> requests;
        boolean answered;

        Upstream(String authentication) {
            this.authentication = authentication;
        }

        /** Ends this stream only: the channel carries the agent's other streams. */
        void cancel(String reason) {
            try {
                requests.onError(Status.CANCELLED.withDescription(reason).asRuntimeException());
            } catch (RuntimeException e) {
                // already closed
            }
        }

        void send(DiscoveryRequest request) {
            // Every upstream request names the node: the control plane need not remember it across our reconnects.
            requests.onNext(request.toBuilder().setNode(node).build());
        }

        @Override
        public void onNext(DiscoveryResponse response) {
            sync.execute(() -> {
                if (upstream != this || done) {
                    return;
                }
                if (!answered) {
                    answered = true;
                    backoffMs = INITIAL_BACKOFF_MS;
                    relay.listener().upstreamConnected(authentication);
                }
                downstream.onNext(response);
            });
        }

        @Override
        public void onError(Throwable error) {
            Status status = Status.fromThrowable(error);
            sync.execute(() -> {
                if (upstream == this) {
                    lost("upstream ADS stream ended: " + status.getCode()
                            + (status.getDescription() == null ? "" : " " + status.getDescription()));
                }
            });
        }

        @Override
        public void onCompleted() {
            sync.execute(() -> {
                if (upstream == this) {
                    lost("upstream ADS stream closed by the control plane");
                }
            });
        }
    }
}
