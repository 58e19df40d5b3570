package dev.septa.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.septa.demo.RotatingChannels;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.LoadBalancer;
import io.grpc.LoadBalancerProvider;
import io.grpc.LoadBalancerRegistry;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.SynchronizationContext;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The flaky rotation test's "Too many transparent retries" (issue 16), reproduced with the timing forced, and the fix.
 *
 * <p>A grpc-java server with max connection age sends GOAWAY; the client's transport marks itself shut down at once,
 * but the subchannel learns it only when the channel's {@link SynchronizationContext} runs the notification. Until
 * then the load balancer keeps handing out that subchannel, every new call on it fails locally as MISCARRIED and is
 * retried "transparently" on the same transport, and after 1,000 such retries the call fails with INTERNAL "Too many
 * transparent retries. Might be a bug in gRPC". On a loaded machine the context is busy (or its thread descheduled)
 * for long enough now and then; here a thread holds it on purpose while the GOAWAY arrives. A client that replaces its
 * channels itself before the server's max age ({@link RotatingChannels}, what the demo workload does) never starts a
 * call on a connection the server has ended.
 */
class GoAwayRaceTest {
    static final Duration MAX_AGE = Duration.ofSeconds(10);

    final ContextRecordingPolicy policy = new ContextRecordingPolicy("septa_goaway_race_" + System.nanoTime());
    final List<AutoCloseable> closing = new CopyOnWriteArrayList<>();
    Server server;

    @BeforeEach
    void start() throws Exception {
        LoadBalancerRegistry.getDefaultRegistry().register(policy);
        // The server sends its first GOAWAY at MAX_AGE (± 10 %) and lets calls in flight run on for 30 s.
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), InsecureServerCredentials.create())
                .addService(new HealthStatusManager().getHealthService())
                .maxConnectionAge(MAX_AGE.toMillis(), TimeUnit.MILLISECONDS)
                .maxConnectionAgeGrace(30, TimeUnit.SECONDS)
                .build().start();
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
        server.shutdownNow();
        LoadBalancerRegistry.getDefaultRegistry().deregister(policy);
    }

    @Test
    void theFirstCallAfterTheServersGoAwayFailsWhileTheChannelIsBusy() throws Exception {
        ManagedChannel channel = channel("127.0.0.1:" + server.getPort());
        connectWithAStreamInFlight(channel);
        StatusRuntimeException failure = null;
        int succeeded = 0;
        try (var held = hold(policy.contexts.getLast())) {
            // Calls go through on the connection until its GOAWAY arrives (MAX_AGE ± 10 % after it opened); the next fails.
            long until = System.nanoTime() + MAX_AGE.multipliedBy(4).toNanos();
            while (failure == null && System.nanoTime() < until) {
                try {
                    check(channel);
                    succeeded++;
                    Thread.sleep(50);
                } catch (StatusRuntimeException e) {
                    failure = e;
                }
            }
        }
        assertThat(failure).as("a call started on the connection the server has just ended").isNotNull();
        System.out.println("GOAWAY race, forced: " + succeeded + " calls went through, then " + failure.getStatus());
        assertThat(succeeded).as("calls before the GOAWAY").isPositive();
        assertThat(failure.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
        // The very message of the flaky rotation e2e test's failure.
        assertThat(failure.getStatus().getDescription()).contains("Too many transparent retries")
                .contains("GOAWAY shut down transport").contains("max_age");
    }

    @Test
    void aClientThatReplacesItsChannelsBeforeTheServersMaxAgeNeverMeetsTheRace() throws Exception {
        String target = "127.0.0.1:" + server.getPort();
        var channels = new RotatingChannels(this::channel, Duration.ofSeconds(1));
        closing.add(channels);
        connectWithAStreamInFlight(channels.get(target));
        int succeeded = 0;
        try (var held = hold(policy.contexts.getLast())) {
            // The same held context and server as above, but the client moves to a new channel every quarter max age.
            channels.every(MAX_AGE.dividedBy(4));
            long until = System.nanoTime() + MAX_AGE.multipliedBy(3).dividedBy(2).toNanos();
            while (System.nanoTime() < until) {
                check(channels.get(target));
                succeeded++;
                Thread.sleep(50);
            }
        }
        System.out.println("GOAWAY race avoided: " + succeeded + " calls, " + policy.contexts.size() + " channels");
        assertThat(policy.contexts).as("channels made").hasSizeGreaterThanOrEqualTo(3);
    }

    private ManagedChannel channel(String target) {
        ManagedChannel channel = Grpc.newChannelBuilder(target, InsecureChannelCredentials.create())
                .defaultLoadBalancingPolicy(policy.getPolicyName()).build();
        closing.add(channel::shutdownNow);
        return channel;
    }

    /**
     * One call to connect, then a Watch stream that stays open: the server keeps a connection with a call in flight
     * open after its GOAWAY (until the grace period), as the demo's busy connections are.
     */
    private void connectWithAStreamInFlight(ManagedChannel channel) {
        HealthGrpc.newBlockingStub(channel).withWaitForReady().withDeadlineAfter(60, TimeUnit.SECONDS)
                .check(HealthCheckRequest.getDefaultInstance());
        HealthGrpc.newStub(channel).watch(HealthCheckRequest.getDefaultInstance(), new StreamObserver<>() {
            @Override
            public void onNext(HealthCheckResponse value) {
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onCompleted() {
            }
        });
    }

    private static HealthCheckResponse check(ManagedChannel channel) {
        return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
    }

    /** Holds {@code context} on another thread (as a long task or a descheduled thread would) until closed. */
    private static AutoCloseable hold(SynchronizationContext context) throws InterruptedException {
        var held = new CountDownLatch(1);
        var release = new CountDownLatch(1);
        Thread holder = Thread.ofPlatform().daemon().start(() -> context.execute(() -> {
            held.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        assertThat(held.await(10, TimeUnit.SECONDS)).as("the channel's context was taken").isTrue();
        return () -> {
            release.countDown();
            holder.join(10_000);
        };
    }

    /** pick_first, recording each channel's synchronization context so that a test can hold it. */
    static final class ContextRecordingPolicy extends LoadBalancerProvider {
        final List<SynchronizationContext> contexts = new CopyOnWriteArrayList<>();
        private final String name;

        ContextRecordingPolicy(String name) {
            this.name = name;
        }

        @Override
        public boolean isAvailable() {
            return true;
        }

        @Override
        public int getPriority() {
            return 5;
        }

        @Override
        public String getPolicyName() {
            return name;
        }

        @Override
        public LoadBalancer newLoadBalancer(LoadBalancer.Helper helper) {
            contexts.add(helper.getSynchronizationContext());
            return LoadBalancerRegistry.getDefaultRegistry().getProvider("pick_first").newLoadBalancer(helper);
        }
    }
}
