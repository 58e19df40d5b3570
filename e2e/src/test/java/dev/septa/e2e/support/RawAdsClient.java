package dev.septa.e2e.support;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A raw ADS client (the generated gRPC stub, nothing of grpc-xds) over TLS trusting the mesh CA, presenting a node
 * token the way an Envoy bootstrap does ({@code authorization: Bearer ...} initial metadata).
 */
public final class RawAdsClient implements AutoCloseable {
    public static final long TIMEOUT_SECONDS = 30;
    private final ManagedChannel channel;
    private final AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceStub ads;

    public RawAdsClient(int port, String trustBundlePem, String token) {
        try {
            var creds = TlsChannelCredentials.newBuilder()
                    .trustManager(new ByteArrayInputStream(trustBundlePem.getBytes(StandardCharsets.US_ASCII))).build();
            Metadata md = new Metadata();
            md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
            channel = Grpc.newChannelBuilderForAddress("localhost", port, creds)
                    .intercept(MetadataUtils.newAttachHeadersInterceptor(md)).build();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        ads = AggregatedDiscoveryServiceGrpc.newStub(channel);
    }

    /** The node as Envoy describes itself: user agent name {@code envoy}, Septa's dialect in the metadata. */
    public static Node node(String id, String dialect) {
        return Node.newBuilder().setId(id).setCluster(id.substring(0, id.indexOf('/'))).setUserAgentName("envoy")
                .setMetadata(Struct.newBuilder().putFields("SEPTA_DIALECT", Value.newBuilder().setStringValue(dialect).build()))
                .build();
    }

    public Stream<DiscoveryRequest, DiscoveryResponse> sotw() {
        Stream<DiscoveryRequest, DiscoveryResponse> s = new Stream<>(DiscoveryResponse::getTypeUrl);
        s.requests = ads.streamAggregatedResources(s.observer());
        return s;
    }

    public Stream<DeltaDiscoveryRequest, DeltaDiscoveryResponse> delta() {
        Stream<DeltaDiscoveryRequest, DeltaDiscoveryResponse> s = new Stream<>(DeltaDiscoveryResponse::getTypeUrl);
        s.requests = ads.deltaAggregatedResources(s.observer());
        return s;
    }

    @Override
    public void close() {
        channel.shutdownNow();
    }

    /** One ADS stream: responses are taken by type URL, as a multiplexed ADS client must (they may interleave). */
    public static final class Stream<Q, R> {
        private final List<R> responses = new ArrayList<>();
        private final CompletableFuture<Status> ended = new CompletableFuture<>();
        private final Function<R, String> typeOf;
        private StreamObserver<Q> requests;

        Stream(Function<R, String> typeOf) {
            this.typeOf = typeOf;
        }

        private StreamObserver<R> observer() {
            return new StreamObserver<>() {
                @Override
                public void onNext(R value) {
                    synchronized (responses) {
                        responses.add(value);
                        responses.notifyAll();
                    }
                }

                @Override
                public void onError(Throwable t) {
                    ended.complete(Status.fromThrowable(t));
                    synchronized (responses) {
                        responses.notifyAll();
                    }
                }

                @Override
                public void onCompleted() {
                    ended.complete(Status.OK);
                    synchronized (responses) {
                        responses.notifyAll();
                    }
                }
            };
        }

        public synchronized Stream<Q, R> send(Q request) {
            requests.onNext(request);
            return this;
        }

        /** The next response of this type, waiting up to {@link #TIMEOUT_SECONDS}. */
        public R next(String typeUrl) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
            synchronized (responses) {
                while (true) {
                    for (Iterator<R> it = responses.iterator(); it.hasNext(); ) {
                        R r = it.next();
                        if (typeOf.apply(r).equals(typeUrl)) {
                            it.remove();
                            return r;
                        }
                    }
                    long left = deadline - System.nanoTime();
                    assertThat(left > 0 && !ended.isDone())
                            .as("a %s response within %ss (stream ended: %s)", typeUrl, TIMEOUT_SECONDS, ended.getNow(null))
                            .isTrue();
                    try {
                        responses.wait(TimeUnit.NANOSECONDS.toMillis(left) + 1);
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
        }

        public Status awaitEnd() {
            try {
                return ended.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError("stream did not end within " + TIMEOUT_SECONDS + "s", e);
            }
        }

        public void close() {
            requests.onCompleted();
        }
    }
}
