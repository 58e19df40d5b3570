package dev.septa.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.septa.controlplane.support.AdsTestClient;
import dev.septa.controlplane.support.TestControlPlane;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A burst of edits is compiled once and reaches the proxy as one push of the final content. */
class PublisherCoalescingTest {
    static final String LDS = Resources.V3.LISTENER_TYPE_URL;

    @Test
    void burstOfEditsBecomesOneCompileAndOnePush(@TempDir Path dir) throws Exception {
        String base = "workload shop/a a\nlistener shop/a inbound 15006\n";
        // A quiet period far longer than the burst takes, however loaded the machine.
        try (TestControlPlane cp = new TestControlPlane(dir, base, Duration.ofSeconds(2));
             AdsTestClient client = cp.clientWithToken("shop/a")) {
            var stream = client.sotw();
            DiscoveryResponse first = stream.send(DiscoveryRequest.newBuilder().setNode(AdsTestClient.node("shop/a", "envoy"))
                    .setTypeUrl(LDS).build()).next();
            stream.send(DiscoveryRequest.newBuilder().setTypeUrl(LDS).setVersionInfo(first.getVersionInfo())
                    .setResponseNonce(first.getNonce()).build());
            double compiles = cp.registry.counter("septa.compiles").count();

            for (int i = 1; i <= 5; i++) {
                Files.writeString(cp.intents.resolve("mesh.yaml"), base + "listener shop/a step" + i + " " + (16000 + i) + "\n");
            }
            DiscoveryResponse pushed = stream.next();
            assertThat(pushed.getResourcesList()).extracting(a -> a.unpack(Listener.class).getName())
                    .containsExactlyInAnyOrder("inbound", "step5");
            await().atMost(Duration.ofSeconds(30)).until(() -> cp.registry.counter("septa.compiles").count() > compiles);
            assertThat(cp.registry.counter("septa.compiles").count()).isEqualTo(compiles + 1);
            stream.send(DiscoveryRequest.newBuilder().setTypeUrl(LDS).setVersionInfo(pushed.getVersionInfo())
                    .setResponseNonce(pushed.getNonce()).build());
            await().atMost(Duration.ofSeconds(30)).until(() -> cp.core.cache().allInSync());
            assertThat(stream.pending()).isZero();
        }
    }
}
