package dev.septa.controlplane.certs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.septa.ca.RootRotation;
import dev.septa.controlplane.ControlPlaneCore;
import dev.septa.controlplane.ControlPlaneMetrics;
import dev.septa.controlplane.support.AdsTestClient;
import dev.septa.controlplane.support.ShopFixture;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A state directory that cannot be written while the control plane runs (issue 16). The fault is real file-system
 * failure, not a mock: a regular file where the successor CA's directory must be created. (chmod does not stop root,
 * which tests run as here and in CI, and a small tmpfs needs mount privileges CI may not have.) The control plane
 * says so in its status, keeps serving the configuration and certificates it has, and carries on by itself once the
 * directory can be written again.
 */
class StateDirectoryFailureTest {
    static final String SECRET = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

    @TempDir Path dir;

    @Test
    void aCaStoreThatCannotBeWrittenHoldsTheRotationWithAClearErrorAndItCarriesOnWhenWritableAgain() throws Exception {
        var options = ShopFixture.options(dir).rootRotationReissueWindow(Duration.ofSeconds(1)).build();
        try (var core = new ControlPlaneCore(options, new ControlPlaneMetrics(new SimpleMeterRegistry())).start()) {
            Path ca = options.stateDir().resolve("ca");
            String bundle = Files.readString(ca.resolve("trust-bundle.pem"));
            Path blocker = ca.resolve("next");
            Files.writeString(blocker, "a file where the successor's store must go");

            assertThat(core.requestRootRotation()).isInstanceOf(ControlPlaneCore.RotationRequest.Accepted.class);
            await().atMost(Duration.ofSeconds(30)).until(() -> core.status().rootRotation().lastError() != null);
            assertThat(core.status().rootRotation().lastError()).contains("cannot write CA store").contains(blocker.toString());

            // Ticks go on failing: the error stays in the status, and nothing moved past what was saved.
            Thread.sleep(1_000);
            assertThat(core.status().rootRotation().lastError()).contains("cannot write CA store");
            assertThat(core.rootRotator().orElseThrow().stage()).isEqualTo(RootRotation.Stage.NONE);
            assertThat(core.status().rootRotation().roots()).hasSize(1);
            assertThat(Files.readString(ca.resolve("trust-bundle.pem"))).isEqualTo(bundle);

            // Meanwhile a workload still gets its certificate and the bundle it has, verifying the control plane with it.
            try (var client = new AdsTestClient(core.xdsPort(), bundle, core.nodeTokens().mint("shop/payments-1"), null)) {
                DiscoveryResponse secrets = client.sds().send(DiscoveryRequest.newBuilder()
                        .setNode(AdsTestClient.node("shop/payments-1", "grpc")).setTypeUrl(SECRET)
                        .addResourceNames("default").addResourceNames("ROOTCA").build()).next();
                assertThat(secrets.getResourcesList()).hasSize(2);
                for (var resource : secrets.getResourcesList()) {
                    Secret secret = resource.unpack(Secret.class);
                    if (secret.getName().equals("ROOTCA")) {
                        assertThat(secret.getValidationContext().getTrustedCa().getInlineString()).isEqualTo(bundle);
                    } else {
                        assertThat(secret.getTlsCertificate().getCertificateChain().getInlineString()).contains("BEGIN CERTIFICATE");
                    }
                }
            }

            // Space returns: the request was kept, and stage 1 goes through without anyone asking again.
            Files.delete(blocker);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(core.rootRotator().orElseThrow().stage()).isEqualTo(RootRotation.Stage.BUNDLE_EXTENDED);
                assertThat(core.status().rootRotation().lastError()).isNull();
            });
            assertThat(core.status().rootRotation().roots()).hasSize(2);
            assertThat(Files.readString(ca.resolve("trust-bundle.pem"))).startsWith(bundle.strip());
        }
    }
}
