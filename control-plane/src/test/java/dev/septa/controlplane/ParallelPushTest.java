package dev.septa.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.septa.controlplane.support.AdsTestClient;
import dev.septa.controlplane.support.TestControlPlane;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A publish that changes many proxies at once is sent over several threads: every proxy still gets exactly its own
 * configuration, once, and the whole fleet converges.
 */
class ParallelPushTest {
    static final String LDS = Resources.V3.LISTENER_TYPE_URL;
    /** Above the cache's threshold for handing sends to more than one thread (64 proxies per thread). */
    static final int PROXIES = 140;

    @Test
    void everyProxyGetsItsOwnConfigurationWhenAllChangeAtOnce(@TempDir Path dir) throws Exception {
        try (TestControlPlane cp = new TestControlPlane(dir, config("v1"))) {
            List<AdsTestClient> clients = new ArrayList<>();
            List<AdsTestClient.Stream<DiscoveryRequest, DiscoveryResponse>> streams = new ArrayList<>();
            try {
                for (int i = 0; i < PROXIES; i++) {
                    AdsTestClient client = cp.clientWithToken("shop/w" + i);
                    clients.add(client);
                    var stream = client.sotw();
                    streams.add(stream);
                    DiscoveryResponse first = stream.send(DiscoveryRequest.newBuilder()
                            .setNode(AdsTestClient.node("shop/w" + i, "envoy")).setTypeUrl(LDS).build()).next();
                    assertThat(names(first)).containsExactly("w" + i + "-v1");
                    ack(stream, first);
                }
                await().atMost(Duration.ofSeconds(60)).until(() -> cp.core.cache().allInSync());

                cp.write("mesh.yaml", config("v2"));
                for (int i = 0; i < PROXIES; i++) {
                    DiscoveryResponse pushed = streams.get(i).next();
                    assertThat(names(pushed)).as("proxy w" + i).containsExactly("w" + i + "-v2");
                    ack(streams.get(i), pushed);
                }
                await().atMost(Duration.ofSeconds(60)).until(() -> cp.core.cache().allInSync());
                for (var stream : streams) {
                    assertThat(stream.pending()).isZero();
                }
            } finally {
                clients.forEach(AdsTestClient::close);
            }
        }
    }

    private static String config(String version) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < PROXIES; i++) {
            out.append("workload shop/w").append(i).append(" sa").append(i).append('\n')
                    .append("listener shop/w").append(i).append(" w").append(i).append('-').append(version)
                    .append(' ').append(15000 + i).append('\n');
        }
        return out.toString();
    }

    private static List<String> names(DiscoveryResponse response) {
        return response.getResourcesList().stream().map(a -> {
            try {
                return a.unpack(Listener.class).getName();
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
        }).toList();
    }

    private static void ack(AdsTestClient.Stream<DiscoveryRequest, DiscoveryResponse> stream, DiscoveryResponse r) {
        stream.send(DiscoveryRequest.newBuilder().setTypeUrl(LDS).setVersionInfo(r.getVersionInfo())
                .setResponseNonce(r.getNonce()).build());
    }
}
