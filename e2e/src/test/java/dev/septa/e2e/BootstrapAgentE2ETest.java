package dev.septa.e2e;

import dev.septa.controlplane.support.SeptaRun;
import static org.assertj.core.api.Assertions.assertThat;

import static org.awaitility.Awaitility.await;

import com.google.protobuf.util.JsonFormat;
import dev.septa.identity.KeyedCertificate;
import dev.septa.controlplane.auth.NodeTokens;
import dev.septa.controlplane.support.AdsTestClient;
import dev.septa.sidecar.bootstrap.EnvoySvidFiles;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import dev.septa.controlplane.ControlPlane;
import dev.septa.controlplane.ControlPlaneOptions;
import dev.septa.e2e.support.ShopExample;
import dev.septa.policy.validate.EnvoyResourceValidation;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code septa bootstrap} and {@code septa agent} as a user runs them against {@code septa serve}'s control plane;
 * the Envoy bootstrap checked against Envoy's own PGV rules, the agent's certificate by openssl.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BootstrapAgentE2ETest {
    Path work;
    Path state;
    ControlPlane cp;



    @BeforeAll
    void start() throws Exception {
        work = Files.createTempDirectory("septa-bootstrap");
        state = work.resolve("state");
        Path shop = ShopExample.root();
        cp = ControlPlane.start(ControlPlaneOptions.builder().intentsDir(shop.resolve("intents"))
                .inventoryFile(shop.resolve("inventory.yaml")).stateDir(state)
                .xdsHost("127.0.0.1").xdsPort(0).httpHost("127.0.0.1").httpPort(0).build());
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (cp.core().meshState().mesh().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
    }

    @AfterAll
    void stop() {
        if (cp != null) {
            cp.close();
        }
    }

    @Test
    void grpcBootstrapThenAgentWritesAnSvidThatOpensslVerifies() throws Exception {
        Path certs = work.resolve("payments-1");
        SeptaRun bootstrap = SeptaRun.of("bootstrap", "--workload", "shop/payments-1", "--dialect", "grpc", "--state-dir", state.toString(),
                "--server", "127.0.0.1:" + cp.xdsPort(), "--inventory", ShopExample.root().resolve("inventory.yaml").toString(),
                "--dir", certs.toString());
        assertThat(bootstrap.exit()).as(bootstrap.err()).isZero();
        assertThat(bootstrap.out()).contains("\"id\": \"shop/payments-1\"").contains("\"type\": \"insecure\"")
                .contains("\"server_uri\": \"unix:" + certs.toAbsolutePath().resolve("xds.sock") + "\"")
                .contains(certs.resolve("cert.pem").toString()).contains("\"SEPTA_SERVICE_ACCOUNT\": \"payments\"")
                .contains("grpc/server?xds.resource.listening_address");
        SeptaRun direct = SeptaRun.of("bootstrap", "--workload", "shop/payments-1", "--dialect", "grpc", "--direct-tls",
                "--state-dir", state.toString(), "--server", "127.0.0.1:" + cp.xdsPort(), "--dir", certs.toString());
        assertThat(direct.exit()).as(direct.err()).isZero();
        assertThat(direct.out()).contains("\"type\": \"tls\"").contains("\"server_uri\": \"127.0.0.1:" + cp.xdsPort() + "\"");
        Path token = certs.resolve("node-token");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(token))).isEqualTo("rw-------");
        assertThat(bootstrap.err()).contains("septa agent --workload shop/payments-1");

        SeptaRun agent = SeptaRun.of("agent", "--workload", "shop/payments-1", "--dir", certs.toString(), "--server", "127.0.0.1:" + cp.xdsPort(),
                "--token-file", token.toString(), "--state-dir", state.toString(), "--once");
        assertThat(agent.exit()).as(agent.err()).isZero();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(certs.resolve("key.pem")))).isEqualTo("rw-------");

        Process verify = new ProcessBuilder("openssl", "verify", "-CAfile", certs.resolve("ca.pem").toString(),
                certs.resolve("cert.pem").toString()).redirectErrorStream(true).start();
        String verified = new String(verify.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(verify.waitFor()).as(verified).isZero();
        Process san = new ProcessBuilder("openssl", "x509", "-noout", "-ext", "subjectAltName", "-in",
                certs.resolve("cert.pem").toString()).redirectErrorStream(true).start();
        String sans = new String(san.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(san.waitFor()).isZero();
        assertThat(sans).contains("URI:spiffe://cluster.local/ns/shop/sa/payments");
        Process keyCheck = new ProcessBuilder("openssl", "pkey", "-in", certs.resolve("key.pem").toString(), "-noout")
                .redirectErrorStream(true).start();
        assertThat(keyCheck.waitFor()).isZero();
    }

    @Test
    void envoyBootstrapCarriesAValidTokenAndPassesEnvoysValidationRules() throws Exception {
        SeptaRun run = SeptaRun.of("bootstrap", "--workload", "shop/checkout-1", "--dialect", "envoy", "--state-dir", state.toString(),
                "--server", "127.0.0.1:" + cp.xdsPort(), "--inventory", ShopExample.root().resolve("inventory.yaml").toString());
        assertThat(run.exit()).as(run.err()).isZero();
        var builder = Bootstrap.newBuilder();
        JsonFormat.parser().usingTypeRegistry(JsonFormat.TypeRegistry.newBuilder()
                .add(UpstreamTlsContext.getDescriptor()).add(HttpProtocolOptions.getDescriptor()).build()).merge(run.out(), builder);
        Bootstrap bootstrap = builder.build();
        EnvoyResourceValidation.assertValid(bootstrap);
        assertThat(bootstrap.getNode().getId()).isEqualTo("shop/checkout-1");
        String bearer = bootstrap.getDynamicResources().getAdsConfig().getGrpcServices(0).getInitialMetadata(0).getValue();
        assertThat(bearer).startsWith("Bearer v1.");
        assertThat(cp.core().nodeTokens().verify(bearer.substring("Bearer ".length())).subject()).isEqualTo("shop/checkout-1");
        var tls = bootstrap.getStaticResources().getClusters(0).getTransportSocket().getTypedConfig().unpack(UpstreamTlsContext.class);
        assertThat(tls.getCommonTlsContext().getValidationContext().getTrustedCa().getInlineString())
                .isEqualTo(Files.readString(state.resolve("ca").resolve("trust-bundle.pem")));
    }

    /**
     * An Envoy beside the agent: its bootstrap's xDS and access-log clusters present the SVID from the agent's files
     * (file-based SDS, PGV-valid), so once its short-lived token has expired it still reconnects, on the certificate.
     */
    @Test
    void envoyBesideTheAgentReconnectsOnItsCertificateAfterTheTokenExpired() throws Exception {
        Path certs = work.resolve("checkout-envoy");
        SeptaRun bootstrap = SeptaRun.of("bootstrap", "--workload", "shop/checkout-1", "--dialect", "envoy", "--state-dir", state.toString(),
                "--server", "127.0.0.1:" + cp.xdsPort(), "--inventory", ShopExample.root().resolve("inventory.yaml").toString(),
                "--dir", certs.toString(), "--token-lifetime", "PT5S");
        assertThat(bootstrap.exit()).as(bootstrap.err()).isZero();
        assertThat(bootstrap.err()).contains("septa agent --workload shop/checkout-1 --dir " + certs);
        Bootstrap envoy = parseBootstrap(bootstrap.out());
        EnvoyResourceValidation.assertValid(envoy);
        for (var cluster : envoy.getStaticResources().getClustersList()) {
            var secret = cluster.getTransportSocket().getTypedConfig().unpack(UpstreamTlsContext.class)
                    .getCommonTlsContext().getTlsCertificateSdsSecretConfigs(0);
            assertThat(secret.getName()).as(cluster.getName()).isEqualTo(EnvoySvidFiles.SECRET);
            assertThat(secret.getSdsConfig().getPathConfigSource().getPath()).isEqualTo(certs.resolve("envoy-sds.json").toString());
            assertThat(secret.getSdsConfig().getPathConfigSource().getWatchedDirectory().getPath()).isEqualTo(certs.toString());
        }

        Path tokenFile = certs.resolve("node-token");
        String token = Files.readString(tokenFile).strip();
        SeptaRun agent = SeptaRun.of("agent", "--workload", "shop/checkout-1", "--dir", certs.toString(), "--server", "127.0.0.1:" + cp.xdsPort(),
                "--token-file", tokenFile.toString(), "--state-dir", state.toString(), "--once");
        assertThat(agent.exit()).as(agent.err()).isZero();

        // envoy-sds.json: one Secret naming the agent's files, valid by Envoy's rules.
        var response = DiscoveryResponse.newBuilder();
        JsonFormat.parser().usingTypeRegistry(JsonFormat.TypeRegistry.newBuilder().add(Secret.getDescriptor()).build())
                .merge(Files.readString(certs.resolve("envoy-sds.json")), response);
        Secret secret = response.getResources(0).unpack(Secret.class);
        EnvoyResourceValidation.assertValid(secret);
        assertThat(secret.getName()).isEqualTo(EnvoySvidFiles.SECRET);
        assertThat(Path.of(secret.getTlsCertificate().getCertificateChain().getFilename())).isEqualTo(certs.resolve("cert.pem")).exists();
        assertThat(Path.of(secret.getTlsCertificate().getPrivateKey().getFilename())).isEqualTo(certs.resolve("key.pem")).exists();
        var svid = new KeyedCertificate("spiffe://cluster.local/ns/shop/sa/checkout", Files.readString(certs.resolve("cert.pem")),
                Files.readString(certs.resolve("key.pem")), null, null);

        await().atMost(Duration.ofSeconds(60)).until(() -> {
            try {
                cp.core().nodeTokens().verify(token);
                return false;
            } catch (NodeTokens.InvalidTokenException expired) {
                return true;
            }
        });
        String bundle = Files.readString(state.resolve("ca").resolve("trust-bundle.pem"));
        try (AdsTestClient tokenOnly = new AdsTestClient(cp.xdsPort(), bundle, token, null)) {
            var stream = tokenOnly.sotw().send(listeners("shop/checkout-1"));
            assertThat(stream.awaitEnd().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        }
        try (AdsTestClient withCertificate = new AdsTestClient(cp.xdsPort(), bundle, token, svid)) {
            var stream = withCertificate.sotw().send(listeners("shop/checkout-1"));
            assertThat(stream.next(Resources.V3.LISTENER_TYPE_URL).getResourcesCount()).isPositive();
        }
    }

    private static DiscoveryRequest listeners(String nodeId) {
        return DiscoveryRequest.newBuilder().setNode(AdsTestClient.node(nodeId, "envoy"))
                .setTypeUrl(Resources.V3.LISTENER_TYPE_URL).build();
    }

    private static Bootstrap parseBootstrap(String json) throws Exception {
        var builder = Bootstrap.newBuilder();
        JsonFormat.parser().usingTypeRegistry(JsonFormat.TypeRegistry.newBuilder()
                .add(UpstreamTlsContext.getDescriptor()).add(HttpProtocolOptions.getDescriptor()).build()).merge(json, builder);
        return builder.build();
    }

    @Test
    void badInputGetsAClearMessageAndExit2() {
        SeptaRun noState = SeptaRun.of("bootstrap", "--workload", "shop/x", "--dialect", "envoy", "--state-dir", work.resolve("nothing").toString());
        assertThat(noState.exit()).isEqualTo(2);
        assertThat(noState.err()).contains("trust-bundle.pem does not exist").contains("septa serve");
        SeptaRun badId = SeptaRun.of("bootstrap", "--workload", "nonamespace", "--dialect", "grpc", "--state-dir", state.toString());
        assertThat(badId.exit()).isEqualTo(2);
        assertThat(badId.err()).contains("NS/NAME");
        SeptaRun unknown = SeptaRun.of("bootstrap", "--workload", "shop/ghost", "--dialect", "grpc", "--state-dir", state.toString(),
                "--inventory", ShopExample.root().resolve("inventory.yaml").toString());
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.err()).contains("has no Workload shop/ghost");
        assertThat(List.of(noState.err(), badId.err(), unknown.err())).noneMatch(e -> e.contains("Exception"));
    }
}
