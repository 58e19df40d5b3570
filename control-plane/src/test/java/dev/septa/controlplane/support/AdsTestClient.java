package dev.septa.controlplane.support;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.septa.identity.KeyedCertificate;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.secret.v3.SecretDiscoveryServiceGrpc;
import io.grpc.ChannelCredentials;
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
import java.util.function.Predicate;

/** A raw xDS client speaking as an Envoy (or grpc) node over TLS: a token, a client certificate, or neither. */
public final class AdsTestClient implements AutoCloseable {
    public static final long TIMEOUT_SECONDS = 30;
    private final ManagedChannel channel;
    private final AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceStub ads;
    private final SecretDiscoveryServiceGrpc.SecretDiscoveryServiceStub sds;

    public AdsTestClient(int port, String trustBundlePem, String token, KeyedCertificate clientCertificate) {
        try {
            TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder().trustManager(stream(trustBundlePem));
            if (clientCertificate != null) {
                tls.keyManager(stream(clientCertificate.certificateChainPem()), stream(clientCertificate.privateKeyPem()));
            }
            ChannelCredentials creds = tls.build();
            var builder = Grpc.newChannelBuilderForAddress("localhost", port, creds);
            if (token != null) {
                Metadata md = new Metadata();
                md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
                builder.intercept(MetadataUtils.newAttachHeadersInterceptor(md));
            }
            channel = builder.build();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        ads = AggregatedDiscoveryServiceGrpc.newStub(channel);
        sds = SecretDiscoveryServiceGrpc.newStub(channel);
    }

    /** The authenticated channel, for the other services on the xDS port (the access-log receiver). */
    public ManagedChannel channel() {
        return channel;
    }

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

    public Stream<DiscoveryRequest, DiscoveryResponse> sds() {
        Stream<DiscoveryRequest, DiscoveryResponse> s = new Stream<>(DiscoveryResponse::getTypeUrl);
        s.requests = sds.streamSecrets(s.observer());
        return s;
    }

    @Override
    public void close() {
        channel.shutdownNow();
    }

    private static ByteArrayInputStream stream(String pem) {
        return new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * One bidirectional stream: send requests, take responses in order ({@link #next()}) or by type URL
     * ({@link #next(String)}, as a multiplexed ADS client must: types may interleave), or the status it ended with.
     */
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
                    wake();
                }

                @Override
                public void onCompleted() {
                    ended.complete(Status.OK);
                    wake();
                }
            };
        }

        private void wake() {
            synchronized (responses) {
                responses.notifyAll();
            }
        }

        public synchronized Stream<Q, R> send(Q request) {
            requests.onNext(request);
            return this;
        }

        /** The next response of any type, waiting up to {@link #TIMEOUT_SECONDS}. */
        public R next() {
            return take(r -> true, "a response");
        }

        /** The next response of this type, waiting up to {@link #TIMEOUT_SECONDS}. */
        public R next(String typeUrl) {
            return take(r -> typeOf.apply(r).equals(typeUrl), "a " + typeUrl + " response");
        }

        private R take(Predicate<R> wanted, String what) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
            synchronized (responses) {
                while (true) {
                    for (Iterator<R> it = responses.iterator(); it.hasNext(); ) {
                        R r = it.next();
                        if (wanted.test(r)) {
                            it.remove();
                            return r;
                        }
                    }
                    long left = deadline - System.nanoTime();
                    assertThat(left > 0 && !ended.isDone())
                            .as("%s within %ss (stream ended: %s)", what, TIMEOUT_SECONDS, ended.getNow(null)).isTrue();
                    try {
                        responses.wait(TimeUnit.NANOSECONDS.toMillis(left) + 1);
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
        }

        /** Responses already received and not yet taken. */
        public int pending() {
            synchronized (responses) {
                return responses.size();
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
