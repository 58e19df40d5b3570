package dev.septa.controlplane.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.controlplane.support.AdsTestClient;
import dev.septa.controlplane.support.TestControlPlane;
import dev.septa.controlplane.xds.XdsServer;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Anyone who reaches the xDS port can make the control plane review a token. A flood of made-up tokens must not
 * become a flood of API server requests or of parked threads: reviews run on a bounded pool, a rejected token is
 * remembered, reviews are rate-limited, and one connection holds a bounded number of streams.
 */
class TokenReviewFloodTest {
    static final String LDS = Resources.V3.LISTENER_TYPE_URL;

    /** The API server's stand-in: every review takes 100 ms and vouches for nobody. */
    static final class SlowApiServer implements ServiceAccountTokens {
        final AtomicInteger calls = new AtomicInteger();
        final AtomicInteger active = new AtomicInteger();
        final AtomicInteger maxActive = new AtomicInteger();

        @Override
        public Optional<ServiceAccount> review(String token) {
            calls.incrementAndGet();
            maxActive.accumulateAndGet(active.incrementAndGet(), Math::max);
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                active.decrementAndGet();
            }
            return Optional.empty();
        }
    }

    @TempDir
    Path dir;
    TestControlPlane cp;
    final SlowApiServer apiServer = new SlowApiServer();
    final List<AdsTestClient> clients = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        cp = new TestControlPlane(dir, "workload shop/a a\nlistener shop/a inbound 15006\n", Duration.ofMillis(50),
                b -> b.serviceAccountTokens(apiServer));
    }

    @AfterEach
    void stop() {
        clients.forEach(AdsTestClient::close);
        cp.close();
    }

    @Test
    void aRepeatedBadTokenIsReviewedOnce() throws Exception {
        List<CompletableFuture<Status>> ends = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            ends.add(open(client(i / 20), "eyJ.made-up"));
        }
        for (var end : ends) {
            assertThat(end.get(60, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        }
        assertThat(apiServer.calls.get()).as("reviews asked of the API server").isEqualTo(1);
    }

    @Test
    void distinctTokensAreReviewedOnABoundedPoolAndRateLimited() throws Exception {
        long started = System.nanoTime();
        List<CompletableFuture<Status>> ends = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            ends.add(open(client(i / 75), "eyJ.made-up-" + i));
        }
        for (var end : ends) {
            assertThat(end.get(120, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        var limits = BoundedTokenReviewer.Limits.DEFAULT;
        assertThat(apiServer.maxActive.get()).as("reviews running at once").isLessThanOrEqualTo(limits.threads());
        assertThat(apiServer.calls.get()).as("reviews in %.1f s", seconds)
                .isLessThanOrEqualTo((int) (limits.burst() + limits.perSecond() * seconds) + 1);
        assertThat(apiServer.calls.get()).as("most were refused without asking").isLessThan(300);
    }

    @Test
    void oneConnectionHoldsABoundedNumberOfStreams() throws Exception {
        AdsTestClient c = new AdsTestClient(cp.core.xdsPort(), cp.ca.trustBundlePem(), cp.core.nodeTokens().mint("shop/a"), null);
        clients.add(c);
        List<AdsTestClient.Stream<DiscoveryRequest, DiscoveryResponse>> streams = new ArrayList<>();
        for (int i = 0; i < XdsServer.MAX_CALLS_PER_CONNECTION; i++) {
            var s = c.sotw().send(lds());
            s.next();
            streams.add(s);
        }
        CompletableFuture<DiscoveryResponse> extra = new CompletableFuture<>();
        var extraStream = c.sotw();
        CompletableFuture.runAsync(() -> extra.complete(extraStream.send(lds()).next()));
        Thread.sleep(2000);
        assertThat(extra).as("a stream past the limit waits").isNotDone();
        streams.getFirst().close();
        assertThat(extra.get(30, TimeUnit.SECONDS).getResourcesCount()).as("and is served once one ends").isPositive();
    }

    private static DiscoveryRequest lds() {
        return DiscoveryRequest.newBuilder().setNode(AdsTestClient.node("shop/a", "envoy")).setTypeUrl(LDS).build();
    }

    private AdsTestClient client(int i) {
        while (clients.size() <= i) {
            clients.add(new AdsTestClient(cp.core.xdsPort(), cp.ca.trustBundlePem(), null, null));
        }
        return clients.get(i);
    }

    /** Opens an ADS stream presenting {@code token}; completes with the status it ends with. */
    private static CompletableFuture<Status> open(AdsTestClient client, String token) {
        CompletableFuture<Status> end = new CompletableFuture<>();
        var requests = AggregatedDiscoveryServiceGrpc.newStub(client.channel()).withCallCredentials(bearer(token))
                .streamAggregatedResources(new StreamObserver<>() {
                    @Override
                    public void onNext(DiscoveryResponse value) {
                        end.complete(Status.OK);
                    }

                    @Override
                    public void onError(Throwable t) {
                        end.complete(Status.fromThrowable(t));
                    }

                    @Override
                    public void onCompleted() {
                        end.complete(Status.OK);
                    }
                });
        requests.onNext(lds());
        return end;
    }

    private static CallCredentials bearer(String token) {
        return new CallCredentials() {
            @Override
            public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
                Metadata md = new Metadata();
                md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
                applier.apply(md);
            }
        };
    }
}
