package dev.septa.controlplane.certs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.septa.ca.RootRotation;
import dev.septa.controlplane.ControlPlaneCore;
import dev.septa.controlplane.ControlPlaneMetrics;
import dev.septa.controlplane.support.AdsTestClient;
import dev.septa.controlplane.support.ShopFixture;
import dev.septa.policy.model.Workload;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A root rotation while the fleet renews short-lived certificates and ACKs slowly (issue 16: a loaded machine, 10 s
 * certificates). Every workload of the shop holds an SDS stream that ACKs each response 1.2 s after it came; its
 * certificate lives 4 s and is renewed every 1.6-2.4 s, so at nearly every instant some workload has a renewal
 * awaiting its ACK. A stage must move on once every workload ACKed secrets carrying the stage's bundle (and signer):
 * waiting instead for an instant when no push at all is unACKed for the whole settle time never ends, which is how
 * CertificateRotationE2ETest's root rotation sat in stage 1 for its 4 minutes.
 */
class RootRotationUnderRenewalsTest {
    static final String SECRET = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
    static final Duration ACK_DELAY = Duration.ofMillis(1200);

    @TempDir Path dir;

    @Test
    void eachStageMovesOnWhileRenewalsAwaitTheirAcks() throws Exception {
        var options = ShopFixture.options(dir).minCertificateTtl(Duration.ofSeconds(2)).certificateTtl(Duration.ofSeconds(4))
                .rootRotationReissueWindow(Duration.ofSeconds(1)).build();
        AtomicBoolean running = new AtomicBoolean(true);
        Map<String, AtomicInteger> responses = new ConcurrentHashMap<>();
        List<Thread> workloads = new ArrayList<>();
        List<AdsTestClient> clients = new ArrayList<>();
        try (var core = new ControlPlaneCore(options, new ControlPlaneMetrics(new SimpleMeterRegistry())).start()) {
            String bundle = Files.readString(options.stateDir().resolve("ca").resolve("trust-bundle.pem"));
            List<String> nodes = core.meshState().mesh().orElseThrow().workloads().stream().map(Workload::id).toList();
            assertThat(nodes).hasSize(6);
            for (String node : nodes) {
                var client = new AdsTestClient(core.xdsPort(), bundle, core.nodeTokens().mint(node), null);
                clients.add(client);
                AtomicInteger count = responses.computeIfAbsent(node, n -> new AtomicInteger());
                workloads.add(Thread.ofPlatform().daemon().name("slow-ack-" + node).start(() -> slowAcks(client, node, count, running)));
            }
            // Everyone holds a certificate and keeps renewing it.
            await().atMost(Duration.ofSeconds(30)).until(() -> responses.values().stream().allMatch(c -> c.get() >= 2));

            assertThat(core.requestRootRotation()).isInstanceOf(ControlPlaneCore.RotationRequest.Accepted.class);
            await().atMost(Duration.ofSeconds(10)).until(() -> core.rootRotator().orElseThrow().stage() != RootRotation.Stage.NONE);
            Map<String, Integer> atStage1 = counts(responses);

            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
                assertThat(core.rootRotator().orElseThrow().stage()).isEqualTo(RootRotation.Stage.NONE);
                assertThat(core.status().rootRotation().roots()).hasSize(1);
                assertThat(core.status().rootRotation().stage()).isEqualTo("idle");
            });
            assertThat(Files.readString(options.stateDir().resolve("ca").resolve("trust-bundle.pem"))).isNotEqualTo(bundle);
            // The timing was forced: renewals went on throughout (at least three more pushes to every workload).
            Map<String, Integer> atEnd = counts(responses);
            assertThat(nodes).allSatisfy(n -> assertThat(atEnd.get(n) - atStage1.get(n)).as(n).isGreaterThanOrEqualTo(3));
        } finally {
            running.set(false);
            clients.forEach(AdsTestClient::close);
            for (Thread t : workloads) {
                t.join(5_000);
            }
        }
    }

    /** A workload's SDS stream on a slow machine: ACKs each response {@link #ACK_DELAY} after it arrived. */
    private static void slowAcks(AdsTestClient client, String node, AtomicInteger count, AtomicBoolean running) {
        var sds = client.sds();
        DiscoveryRequest first = DiscoveryRequest.newBuilder().setNode(AdsTestClient.node(node, "grpc")).setTypeUrl(SECRET)
                .addResourceNames("default").addResourceNames("ROOTCA").build();
        sds.send(first);
        try {
            while (running.get()) {
                DiscoveryResponse response = sds.next();
                count.incrementAndGet();
                Thread.sleep(ACK_DELAY.toMillis());
                sds.send(first.toBuilder().setVersionInfo(response.getVersionInfo()).setResponseNonce(response.getNonce()).build());
            }
        } catch (Throwable e) {
            if (running.get()) {
                System.err.println(node + ": SDS stream failed: " + e);
            }
        }
    }

    private static Map<String, Integer> counts(Map<String, AtomicInteger> responses) {
        Map<String, Integer> copy = new java.util.TreeMap<>();
        responses.forEach((k, v) -> copy.put(k, v.get()));
        return copy;
    }
}
