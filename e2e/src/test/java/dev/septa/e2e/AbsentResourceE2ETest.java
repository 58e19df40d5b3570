package dev.septa.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.septa.controlplane.ControlPlane;
import dev.septa.controlplane.ControlPlaneOptions;
import dev.septa.e2e.support.RawAdsClient;
import dev.septa.e2e.support.ShopExample;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * "Does not exist" at the protocol level: a proxyless client (storefront-1) subscribing to a service that egress
 * scoping left out of its configuration (payments.shop:8443, storefront may never pay) gets an answer at once, with
 * the names that exist and without the missing one (SotW LDS/CDS are full-state: absent means "does not exist"), and
 * in delta a {@code removed_resources} entry. Nothing is published in between: these answers are not pushes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AbsentResourceE2ETest {
    static final String LDS = Resources.V3.LISTENER_TYPE_URL;
    static final String CDS = Resources.V3.CLUSTER_TYPE_URL;
    static final String ALLOWED = "checkout.shop:8443";
    static final String SCOPED_AWAY = "payments.shop:8443";
    static final String NEVER_EXISTED = "ghost.shop:1";

    ControlPlane cp;
    String trustBundle;

    @BeforeAll
    void start() throws Exception {
        Path work = Files.createTempDirectory("septa-absent");
        Path shop = ShopExample.copyTo(work.resolve("shop"));
        Path state = work.resolve("state");
        cp = ControlPlane.start(ControlPlaneOptions.builder().intentsDir(shop.resolve("intents"))
                .inventoryFile(shop.resolve("inventory.yaml")).stateDir(state)
                .xdsHost("127.0.0.1").xdsPort(0).httpHost("127.0.0.1").httpPort(0).build());
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (cp.core().meshState().mesh().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(cp.core().meshState().mesh()).isPresent();
        trustBundle = Files.readString(state.resolve("ca").resolve("trust-bundle.pem"));
    }

    @AfterAll
    void stop() {
        if (cp != null) {
            cp.close();
        }
    }

    @Test
    void everySotwResubscriptionIsAnsweredAtOnceWithTheNamesThatExist() {
        Node node = RawAdsClient.node("shop/storefront-1", "grpc");
        try (RawAdsClient client = new RawAdsClient(cp.xdsPort(), trustBundle, cp.core().nodeTokens().mint("shop/storefront-1"))) {
            var stream = client.sotw();
            List<String> names = new ArrayList<>(List.of(ALLOWED));
            stream.send(lds(node, names, "", ""));
            DiscoveryResponse first = stream.next(LDS);
            assertThat(listenerNames(first)).containsExactly(ALLOWED);

            // As grpc-java does when a channel to a new target starts: the same stream, the ACKed version and nonce,
            // one more name. The name the proxy may not reach must be answered now, by its absence.
            names.add(SCOPED_AWAY);
            long sent = System.nanoTime();
            stream.send(lds(node, names, first.getVersionInfo(), first.getNonce()));
            DiscoveryResponse second = stream.next(LDS);
            long tookMillis = Duration.ofNanos(System.nanoTime() - sent).toMillis();
            assertThat(second.getNonce()).isNotEqualTo(first.getNonce());
            assertThat(second.getVersionInfo()).as("an answer, not a push of new config").isEqualTo(first.getVersionInfo());
            assertThat(listenerNames(second)).containsExactly(ALLOWED);

            // A subscription of nothing that exists is answered too, with an empty (full-state) response.
            stream.send(lds(node, List.of(NEVER_EXISTED), second.getVersionInfo(), second.getNonce()));
            DiscoveryResponse third = stream.next(LDS);
            assertThat(third.getNonce()).isNotEqualTo(second.getNonce());
            assertThat(third.getResourcesList()).isEmpty();

            // And CDS likewise.
            stream.send(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(CDS).addResourceNames(NEVER_EXISTED).build());
            assertThat(stream.next(CDS).getResourcesList()).isEmpty();
            System.out.printf("absent LDS name answered in %d ms%n", tookMillis);
        }
    }

    @Test
    void deltaReportsNamesThatDoNotExistAsRemoved() {
        Node node = RawAdsClient.node("shop/storefront-1", "grpc");
        try (RawAdsClient client = new RawAdsClient(cp.xdsPort(), trustBundle, cp.core().nodeTokens().mint("shop/storefront-1"))) {
            var stream = client.delta();
            stream.send(DeltaDiscoveryRequest.newBuilder().setNode(node).setTypeUrl(LDS)
                    .addResourceNamesSubscribe(ALLOWED).addResourceNamesSubscribe(SCOPED_AWAY).build());
            DeltaDiscoveryResponse first = stream.next(LDS);
            assertThat(first.getResourcesList()).extracting(r -> r.getName()).containsExactly(ALLOWED);
            assertThat(first.getRemovedResourcesList()).containsExactly(SCOPED_AWAY);

            // A later subscription of one more missing name, on the same stream after the ACK.
            stream.send(DeltaDiscoveryRequest.newBuilder().setNode(node).setTypeUrl(LDS).setResponseNonce(first.getNonce())
                    .addResourceNamesSubscribe(NEVER_EXISTED).build());
            DeltaDiscoveryResponse second = stream.next(LDS);
            assertThat(second.getResourcesList()).isEmpty();
            assertThat(second.getRemovedResourcesList()).containsExactly(NEVER_EXISTED);
        }
    }

    private static DiscoveryRequest lds(Node node, List<String> names, String version, String nonce) {
        return DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(LDS).addAllResourceNames(names)
                .setVersionInfo(version).setResponseNonce(nonce).build();
    }

    private static List<String> listenerNames(DiscoveryResponse response) {
        List<String> out = new ArrayList<>();
        for (var any : response.getResourcesList()) {
            try {
                out.add(any.unpack(Listener.class).getName());
            } catch (InvalidProtocolBufferException e) {
                throw new AssertionError(e);
            }
        }
        return out;
    }
}
