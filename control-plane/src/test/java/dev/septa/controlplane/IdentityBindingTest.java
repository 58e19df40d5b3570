package dev.septa.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.identity.KeyedCertificate;
import dev.septa.controlplane.auth.NodeTokens;
import dev.septa.controlplane.support.AdsTestClient;
import dev.septa.controlplane.support.TestCertificates;
import dev.septa.controlplane.support.TestControlPlane;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Decision 0002: a workload obtains only its own node's configuration and secrets. */
class IdentityBindingTest {
    static final String LDS = Resources.V3.LISTENER_TYPE_URL;
    static final String SDS = Resources.V3.SECRET_TYPE_URL;

    @TempDir
    Path dir;
    TestControlPlane cp;

    @BeforeEach
    void start() throws Exception {
        cp = new TestControlPlane(dir, """
                workload shop/a a
                workload shop/b b
                listener shop/a inbound 15006
                listener shop/b inbound 15006
                """);
    }

    @AfterEach
    void stop() {
        cp.close();
    }

    static DiscoveryRequest req(String node, String type, String... names) {
        return DiscoveryRequest.newBuilder().setNode(AdsTestClient.node(node, "envoy")).setTypeUrl(type)
                .addAllResourceNames(List.of(names)).build();
    }

    @Test
    void tokenForAAskingForNodeBIsDenied() {
        try (AdsTestClient client = cp.clientWithToken("shop/a")) {
            Status status = client.sotw().send(req("shop/b", LDS)).awaitEnd();
            assertThat(status.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(status.getDescription()).contains("token for shop/a may not act as node shop/b");
        }
    }

    @Test
    void tokenForAAskingForBsSecretsIsDenied() {
        try (AdsTestClient client = cp.clientWithToken("shop/a")) {
            assertThat(client.sds().send(req("shop/b", SDS, "default")).awaitEnd().getCode())
                    .isEqualTo(Status.Code.PERMISSION_DENIED);
        }
        try (AdsTestClient client = cp.clientWithToken("shop/a")) {
            assertThat(client.sotw().send(req("shop/a", SDS, "default", "spiffe://cluster.local/ns/shop/sa/b")).awaitEnd().getCode())
                    .isEqualTo(Status.Code.PERMISSION_DENIED);
        }
    }

    @Test
    void streamBoundToAMayNotSwitchToB() {
        try (AdsTestClient client = cp.clientWithToken("shop/a")) {
            var stream = client.sotw();
            DiscoveryResponse r = stream.send(req("shop/a", LDS)).next();
            assertThat(r.getResourcesCount()).isEqualTo(1);
            assertThat(stream.send(req("shop/b", LDS)).awaitEnd().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        }
    }

    @Test
    void expiredForgedOrMissingTokensAreUnauthenticated(@TempDir Path otherState) throws Exception {
        String expired = NodeTokens.open(cp.stateDir, Clock.fixed(Instant.now().minus(Duration.ofHours(2)), ZoneOffset.UTC)).mint("shop/a");
        String forged = NodeTokens.open(otherState).mint("shop/a");
        for (String token : new String[] {expired, forged, "v1.e30.AAAA"}) {
            try (AdsTestClient client = new AdsTestClient(cp.core.xdsPort(), cp.ca.trustBundlePem(), token, null)) {
                Status status = client.sotw().send(req("shop/a", LDS)).awaitEnd();
                assertThat(status.getCode()).as(token).isEqualTo(Status.Code.UNAUTHENTICATED);
            }
        }
        try (AdsTestClient client = new AdsTestClient(cp.core.xdsPort(), cp.ca.trustBundlePem(), null, null)) {
            Status status = client.sotw().send(req("shop/a", LDS)).awaitEnd();
            assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
            assertThat(status.getDescription()).contains("no credential");
        }
    }

    @Test
    void certificateOfAServesAAndIsDeniedB() throws Exception {
        // A's first certificate, obtained with its token, as its agent would.
        KeyedCertificate svid;
        try (AdsTestClient client = cp.clientWithToken("shop/a")) {
            DiscoveryResponse r = client.sds().send(req("shop/a", SDS, "default")).next();
            Secret s = r.getResources(0).unpack(Secret.class);
            svid = new KeyedCertificate("spiffe://cluster.local/ns/shop/sa/a",
                    s.getTlsCertificate().getCertificateChain().getInlineString(),
                    s.getTlsCertificate().getPrivateKey().getInlineString(), Instant.now(), Instant.now());
        }
        try (AdsTestClient client = new AdsTestClient(cp.core.xdsPort(), cp.ca.trustBundlePem(), null, svid)) {
            DiscoveryResponse lds = client.sotw().send(req("shop/a", LDS)).next();
            assertThat(lds.getResourcesCount()).isEqualTo(1);
            Status denied = client.sotw().send(req("shop/b", LDS)).awaitEnd();
            assertThat(denied.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(denied.getDescription()).contains("certificate spiffe://cluster.local/ns/shop/sa/a may not act as node shop/b");
        }
    }

    /**
     * Issue 11: a workload connected with the SVID of {@code sa/a} whose inventory entry changes to {@code sa/vault}
     * must not get a {@code sa/vault} SVID (or the new identity's configuration) on the same streams: they are closed
     * with PERMISSION_DENIED before anything for the new identity is sent.
     */
    @Test
    void streamsOfACertificateAreClosedWhenTheNodesIdentityChanges() throws Exception {
        KeyedCertificate svid;
        try (AdsTestClient client = cp.clientWithToken("shop/a")) {
            Secret s = client.sds().send(req("shop/a", SDS, "default")).next().getResources(0).unpack(Secret.class);
            svid = new KeyedCertificate("spiffe://cluster.local/ns/shop/sa/a",
                    s.getTlsCertificate().getCertificateChain().getInlineString(),
                    s.getTlsCertificate().getPrivateKey().getInlineString(), Instant.now(), Instant.now());
        }
        try (AdsTestClient client = new AdsTestClient(cp.core.xdsPort(), cp.ca.trustBundlePem(), null, svid)) {
            var sds = client.sds().send(req("shop/a", SDS, "default"));
            assertThat(sds.next().getResources(0).unpack(Secret.class).getTlsCertificate().getCertificateChain()
                    .getInlineString()).isNotEmpty();
            var ads = client.sotw().send(req("shop/a", LDS));
            assertThat(ads.next().getResourcesCount()).isEqualTo(1);

            cp.write("mesh.yaml", """
                    workload shop/a vault
                    workload shop/b b
                    listener shop/a inbound 15007
                    listener shop/b inbound 15006
                    """);
            for (var stream : List.of(sds, ads)) {
                Status closed = stream.awaitEnd();
                assertThat(closed.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                assertThat(closed.getDescription())
                        .contains("certificate spiffe://cluster.local/ns/shop/sa/a may no longer act as node shop/a");
                assertThat(stream.pending()).as("nothing for sa/vault was sent").isZero();
            }
        }
        try (AdsTestClient client = new AdsTestClient(cp.core.xdsPort(), cp.ca.trustBundlePem(), null, svid)) {
            assertThat(client.sds().send(req("shop/a", SDS, "default")).awaitEnd().getCode())
                    .isEqualTo(Status.Code.PERMISSION_DENIED);
        }
    }

    @Test
    void certificateFromAnotherCaFailsTheHandshake() {
        TestCertificates otherCa = new TestCertificates("someone-else");
        KeyedCertificate foreign = otherCa.issueWorkload("spiffe://cluster.local/ns/shop/sa/a", Duration.ofHours(1));
        try (AdsTestClient client = new AdsTestClient(cp.core.xdsPort(), cp.ca.trustBundlePem(), null, foreign)) {
            Status status = client.sotw().send(req("shop/a", LDS)).awaitEnd();
            assertThat(status.getCode()).isIn(Status.Code.UNAVAILABLE, Status.Code.UNAUTHENTICATED);
        }
    }
}
