package dev.septa.controlplane.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.controlplane.support.AdsTestClient;
import dev.septa.controlplane.support.TestControlPlane;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kubernetes mode: an xDS stream authenticated by a projected service-account token, reviewed by the API server
 * (fabric8's mock server answering TokenReview as kube-apiserver does, user extra included), admits exactly the node
 * of the pod the token is bound to (decision 0005, issue 11).
 */
@EnableKubernetesMockClient
class ServiceAccountTokenAuthTest {
    static final String LDS = Resources.V3.LISTENER_TYPE_URL;
    static final String PATH = "/apis/authentication.k8s.io/v1/tokenreviews";

    KubernetesMockServer server;
    KubernetesClient client;

    @TempDir
    Path dir;
    TestControlPlane cp;

    /** What the API server knows: token → (user, audiences, pod name, pod uid); "-" for no such claim. */
    static final Map<String, List<String>> TOKENS = Map.of(
            "eyJ.a", List.of("system:serviceaccount:shop:a", "septa", "a", "uid-a"),
            "eyJ.unbound", List.of("system:serviceaccount:shop:a", "septa", "-", "-"),
            "eyJ.a-for-the-api-server", List.of("system:serviceaccount:shop:a", "https://kubernetes.default.svc", "a", "-"),
            "eyJ.user", List.of("alice", "septa", "-", "-"));

    @BeforeEach
    void start() throws Exception {
        server.expect().post().withPath(PATH).andReply(201, request -> {
            String body = request.getBody().readUtf8();
            var review = new TokenReviewBuilder().withNewStatus().withAuthenticated(false).endStatus().build();
            for (var e : TOKENS.entrySet()) {
                if (body.contains("\"token\":\"" + e.getKey() + "\"")) {
                    Map<String, List<String>> extra = new java.util.HashMap<>();
                    if (!e.getValue().get(2).equals("-")) {
                        extra.put("authentication.kubernetes.io/pod-name", List.of(e.getValue().get(2)));
                    }
                    if (!e.getValue().get(3).equals("-")) {
                        extra.put("authentication.kubernetes.io/pod-uid", List.of(e.getValue().get(3)));
                    }
                    review = new TokenReviewBuilder().withNewStatus().withAuthenticated(true)
                            .withNewUser().withUsername(e.getValue().get(0)).withExtra(extra).endUser()
                            .withAudiences(e.getValue().get(1)).endStatus().build();
                }
            }
            return review;
        }).always();
        cp = new TestControlPlane(dir, """
                workload shop/a a
                workload shop/a-2 a
                workload shop/b b
                listener shop/a inbound 15006
                listener shop/a-2 inbound 15006
                listener shop/b inbound 15006
                """, Duration.ofMillis(50), b -> b.serviceAccountTokens(new KubernetesTokenReviewer(client, Clock.systemUTC())));
    }

    @AfterEach
    void stop() {
        cp.close();
    }

    static DiscoveryRequest lds(String node) {
        return DiscoveryRequest.newBuilder().setNode(AdsTestClient.node(node, "envoy")).setTypeUrl(LDS).build();
    }

    @Test
    void aPodBoundTokenAdmitsItsOwnPodsNodeOnly() {
        try (AdsTestClient c = cp.clientWithBearer("eyJ.a")) {
            assertThat(c.sotw().send(lds("shop/a")).next().getResourcesCount()).isPositive();
        }
        for (String other : List.of("shop/a-2", "shop/b")) {
            try (AdsTestClient c = cp.clientWithBearer("eyJ.a")) {
                Status denied = c.sotw().send(lds(other)).awaitEnd();
                assertThat(denied.getCode()).as(other).isEqualTo(Status.Code.PERMISSION_DENIED);
                assertThat(denied.getDescription()).contains("service account token for shop/a bound to pod shop/a");
            }
        }
        assertThat(server.getRequestCount()).as("one TokenReview, then the cache").isEqualTo(1);
    }

    @Test
    void aTokenBoundToNoPodIsRefusedUnlessTheOperatorAllowsServiceAccountScope(@TempDir Path other) throws Exception {
        try (AdsTestClient c = cp.clientWithBearer("eyJ.unbound")) {
            Status denied = c.sotw().send(lds("shop/a")).awaitEnd();
            assertThat(denied.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(denied.getDescription()).contains("(not bound to a pod)");
        }
        assertThat(cp.core.status().warnings()).isEmpty();
        try (TestControlPlane allowing = new TestControlPlane(other, "workload shop/a a\nworkload shop/a-2 a\nworkload shop/b b\n"
                + "listener shop/a inbound 15006\nlistener shop/a-2 inbound 15006\n", Duration.ofMillis(50),
                b -> b.serviceAccountTokens(new KubernetesTokenReviewer(client, Clock.systemUTC())).unboundServiceAccountTokens(true))) {
            for (String node : List.of("shop/a", "shop/a-2")) {
                try (AdsTestClient c = allowing.clientWithBearer("eyJ.unbound")) {
                    assertThat(c.sotw().send(lds(node)).next().getResourcesCount()).as(node).isPositive();
                }
            }
            try (AdsTestClient c = allowing.clientWithBearer("eyJ.unbound")) {
                assertThat(c.sotw().send(lds("shop/b")).awaitEnd().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            }
            assertThat(allowing.core.status().warnings()).singleElement().asString()
                    .contains("--allow-unbound-service-account-tokens");
        }
    }

    /** A pod name re-used by a pod of another service account: the stream bound with the old pod's token is closed. */
    @Test
    void aStreamIsClosedWhenItsPodNameNowBelongsToAnotherServiceAccount() throws Exception {
        try (AdsTestClient c = cp.clientWithBearer("eyJ.a")) {
            var stream = c.sotw().send(lds("shop/a"));
            assertThat(stream.next().getResourcesCount()).isPositive();
            cp.write("mesh.yaml", "workload shop/a b\nworkload shop/b b\nlistener shop/a inbound 15007\n");
            Status closed = stream.awaitEnd();
            assertThat(closed.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(closed.getDescription()).contains("may no longer act as node shop/a");
            assertThat(stream.pending()).as("nothing of the new identity's configuration was sent").isZero();
        }
    }

    @Test
    void tokensTheApiServerDoesNotVouchForSeptaAreRefused() {
        for (String token : List.of("eyJ.unknown", "eyJ.a-for-the-api-server", "eyJ.user")) {
            try (AdsTestClient c = cp.clientWithBearer(token)) {
                Status status = c.sotw().send(lds("shop/a")).awaitEnd();
                assertThat(status.getCode()).as(token).isEqualTo(Status.Code.UNAUTHENTICATED);
                assertThat(status.getDescription()).contains("TokenReview");
            }
        }
    }

    @Test
    void septaNodeTokensStillWorkWithoutAskingTheApiServer() {
        try (AdsTestClient c = cp.clientWithToken("shop/b")) {
            assertThat(c.sotw().send(lds("shop/b")).next().getResourcesCount()).isPositive();
        }
        assertThat(server.getRequestCount()).isZero();
    }
}
