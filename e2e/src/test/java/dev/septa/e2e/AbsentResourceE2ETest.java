package dev.septa.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.septa.controlplane.ControlPlane;
import dev.septa.controlplane.ControlPlaneOptions;
import dev.septa.controlplane.support.AdsTestClient;
import dev.septa.e2e.support.ShopExample;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
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
 * "Does not exist" at the protocol level: a client subscribing to a name its configuration lacks gets an answer at
 * once, with the names that exist and without the missing one (SotW LDS/CDS are full-state: absent means "does not
 * exist"), and in delta a {@code removed_resources} entry. Nothing is published in between: these are not pushes.
 * A proxyless gRPC client asking for a service egress scoping left out (storefront may never pay) gets a stand-in
 * listener that denies at once, since grpc-java would otherwise wait out its 15 s resource timer.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AbsentResourceE2ETest {
    static final String LDS = Resources.V3.LISTENER_TYPE_URL;
    static final String CDS = Resources.V3.CLUSTER_TYPE_URL;
    static final String EDS = Resources.V3.ENDPOINT_TYPE_URL;
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
        Node node = AdsTestClient.node("shop/payments-1", "envoy");
        try (AdsTestClient client = new AdsTestClient(cp.xdsPort(), trustBundle, cp.core().nodeTokens().mint("shop/payments-1"), null)) {
            var stream = client.sotw();
            List<String> names = new ArrayList<>(List.of("inbound"));
            stream.send(lds(node, names, "", ""));
            DiscoveryResponse first = stream.next(LDS);
            assertThat(listenerNames(first)).containsExactly("inbound");

            // A resubscription on the same stream, with the ACKed version and nonce and one more name that the
            // proxy's configuration lacks: answered now, by the name's absence, not when the config next changes.
            names.add(NEVER_EXISTED);
            long sent = System.nanoTime();
            stream.send(lds(node, names, first.getVersionInfo(), first.getNonce()));
            DiscoveryResponse second = stream.next(LDS);
            long tookMillis = Duration.ofNanos(System.nanoTime() - sent).toMillis();
            assertThat(second.getNonce()).isNotEqualTo(first.getNonce());
            assertThat(second.getVersionInfo()).as("an answer, not a push of new config").isEqualTo(first.getVersionInfo());
            assertThat(listenerNames(second)).containsExactly("inbound");

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

    /**
     * grpc-java ignores absence while its 15 s resource timer runs, so a proxyless client gets a stand-in for a client
     * listener it may not reach: a listener whose one route aborts every call with PERMISSION_DENIED, routed to an
     * empty cluster that is answered too. A server listener that does not exist stays absent.
     */
    @Test
    void aProxylessClientGetsADenyingStandInForAServiceItMayNotReach() throws Exception {
        Node node = AdsTestClient.node("shop/storefront-1", "grpc");
        String missingServer = "grpc/server?xds.resource.listening_address=0.0.0.0:1";
        try (AdsTestClient client = new AdsTestClient(cp.xdsPort(), trustBundle, cp.core().nodeTokens().mint("shop/storefront-1"), null)) {
            var stream = client.sotw();
            stream.send(lds(node, List.of(ALLOWED, SCOPED_AWAY, missingServer), "", ""));
            DiscoveryResponse response = stream.next(LDS);
            assertThat(listenerNames(response)).containsExactlyInAnyOrder(ALLOWED, SCOPED_AWAY);
            Listener standIn = response.getResourcesList().stream().map(AbsentResourceE2ETest::listener)
                    .filter(l -> l.getName().equals(SCOPED_AWAY)).findFirst().orElseThrow();
            HttpConnectionManager hcm = standIn.getApiListener().getApiListener().unpack(HttpConnectionManager.class);
            HTTPFault fault = hcm.getHttpFilters(0).getTypedConfig().unpack(HTTPFault.class);
            assertThat(fault.getAbort().getGrpcStatus()).isEqualTo(io.grpc.Status.Code.PERMISSION_DENIED.value());
            assertThat(fault.getAbort().getPercentage().getNumerator()).isEqualTo(100);
            assertThat(hcm.getHttpFilters(1).getName()).isEqualTo("envoy.filters.http.router");
            String cluster = hcm.getRouteConfig().getVirtualHosts(0).getRoutes(0).getRoute().getCluster();

            stream.send(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(CDS).addResourceNames(cluster).build());
            Cluster empty = stream.next(CDS).getResources(0).unpack(Cluster.class);
            assertThat(empty.getName()).isEqualTo(cluster);
            stream.send(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(EDS)
                    .addResourceNames(empty.getEdsClusterConfig().getServiceName()).build());
            ClusterLoadAssignment endpoints = stream.next(EDS).getResources(0).unpack(ClusterLoadAssignment.class);
            assertThat(endpoints.getEndpointsList()).isEmpty();
        }
    }

    @Test
    void deltaReportsNamesThatDoNotExistAsRemoved() {
        Node node = AdsTestClient.node("shop/storefront-1", "grpc");
        try (AdsTestClient client = new AdsTestClient(cp.xdsPort(), trustBundle, cp.core().nodeTokens().mint("shop/storefront-1"), null)) {
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
        return response.getResourcesList().stream().map(AbsentResourceE2ETest::listener).map(Listener::getName).toList();
    }

    private static Listener listener(com.google.protobuf.Any any) {
        try {
            return any.unpack(Listener.class);
        } catch (InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }
}
