package dev.septa.sidecar.bootstrap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.util.JsonFormat;
import dev.septa.sidecar.testing.TestPki;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.grpc.xds.client.Bootstrapper;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BootstrapGeneratorTest {
    final TestPki pki = new TestPki("bootstrap-test");
    final ProxyNode node = new ProxyNode("shop", "payments-1", Map.of("app", "payments", "tier", "backend"), "payments");
    final ControlPlaneEndpoint endpoint = new ControlPlaneEndpoint("127.0.0.1", 15012, pki.rootPem());

    @Test
    void envoyBootstrapPointsAdsAtTheControlPlaneWithTheTokenAndTrustBundle() throws Exception {
        Bootstrap bootstrap = new EnvoyBootstrapGenerator().generate(node, endpoint,
                "spiffe://cluster.local/ns/septa-system/sa/control-plane", "v1.abc.def");
        assertThat(bootstrap.getNode().getId()).isEqualTo("shop/payments-1");
        assertThat(bootstrap.getNode().getMetadata().getFieldsOrThrow(NodeMetadata.DIALECT).getStringValue()).isEqualTo("envoy");
        assertThat(bootstrap.getNode().getMetadata().getFieldsOrThrow(NodeMetadata.LABELS).getStructValue()
                .getFieldsOrThrow("tier").getStringValue()).isEqualTo("backend");
        var ads = bootstrap.getDynamicResources().getAdsConfig();
        assertThat(ads.getGrpcServices(0).getEnvoyGrpc().getClusterName()).isEqualTo(EnvoyBootstrapGenerator.XDS_CLUSTER);
        assertThat(ads.getGrpcServices(0).getInitialMetadata(0).getValue()).isEqualTo("Bearer v1.abc.def");
        assertThat(bootstrap.getDynamicResources().getLdsConfig().hasAds()).isTrue();
        assertThat(bootstrap.getDynamicResources().getCdsConfig().hasAds()).isTrue();

        Cluster xds = bootstrap.getStaticResources().getClusters(0);
        assertThat(xds.getType()).isEqualTo(Cluster.DiscoveryType.STATIC);
        var tls = xds.getTransportSocket().getTypedConfig().unpack(UpstreamTlsContext.class);
        assertThat(tls.getCommonTlsContext().getValidationContext().getTrustedCa().getInlineString()).isEqualTo(pki.rootPem());
        assertThat(xds.getTypedExtensionProtocolOptionsOrThrow("envoy.extensions.upstreams.http.v3.HttpProtocolOptions")
                .unpack(HttpProtocolOptions.class).getExplicitHttpConfig().hasHttp2ProtocolOptions()).isTrue();

        // The printed JSON reads back into the same typed bootstrap.
        String json = EnvoyBootstrapGenerator.toJson(bootstrap);
        var parsed = Bootstrap.newBuilder();
        JsonFormat.parser().usingTypeRegistry(JsonFormat.TypeRegistry.newBuilder()
                .add(UpstreamTlsContext.getDescriptor()).add(HttpProtocolOptions.getDescriptor()).build()).merge(json, parsed);
        assertThat(parsed.build()).isEqualTo(bootstrap);
    }

    @Test
    void besideTheAgentBothClustersPresentTheSvidFilesThroughFileBasedSds() throws Exception {
        var files = new CertificateFileLayout(Path.of("/run/septa/certs"));
        Bootstrap bootstrap = new EnvoyBootstrapGenerator().generate(node, endpoint,
                "spiffe://cluster.local/ns/septa-system/sa/control-plane", "v1.abc.def", files);
        assertThat(bootstrap.getDynamicResources().getAdsConfig().getGrpcServices(0).getInitialMetadata(0).getValue())
                .as("the token still opens the first stream").isEqualTo("Bearer v1.abc.def");
        assertThat(bootstrap.getStaticResources().getClustersList()).hasSize(2).allSatisfy(cluster -> {
            var common = cluster.getTransportSocket().getTypedConfig().unpack(UpstreamTlsContext.class).getCommonTlsContext();
            assertThat(common.getTlsCertificateSdsSecretConfigsList()).singleElement().satisfies(sds -> {
                assertThat(sds.getName()).isEqualTo(EnvoySvidFiles.SECRET);
                assertThat(sds.getSdsConfig().getPathConfigSource().getPath()).isEqualTo("/run/septa/certs/envoy-sds.json");
                assertThat(sds.getSdsConfig().getPathConfigSource().getWatchedDirectory().getPath()).isEqualTo("/run/septa/certs");
            });
        });
        var secret = EnvoySvidFiles.resource(files).getResources(0)
                .unpack(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret.class);
        assertThat(secret.getTlsCertificate().getCertificateChain().getFilename()).isEqualTo("/run/septa/certs/cert.pem");
        assertThat(secret.getTlsCertificate().getPrivateKey().getFilename()).isEqualTo("/run/septa/certs/key.pem");
        assertThat(secret.getTlsCertificate().getWatchedDirectory().getPath()).isEqualTo("/run/septa/certs");
        assertThat(EnvoySvidFiles.json(files)).contains("\"@type\": \"type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret\"");
    }

    @Test
    void envoyBootstrapNeedsTheTrustBundle() {
        assertThatThrownBy(() -> new EnvoyBootstrapGenerator().generate(node, new ControlPlaneEndpoint("cp", 1, null), "x", "t"))
                .hasMessageContaining("trust bundle");
    }

    @Test
    @SuppressWarnings("unchecked")
    void grpcBootstrapIsAcceptedByGrpcJavasOwnBootstrapParser() throws Exception {
        // grpc builds the channel credentials while parsing, so the agent's files must exist first.
        Path dir = java.nio.file.Files.createTempDirectory("septa-bootstrap");
        pki.writeFiles(pki.issue("spiffe://cluster.local/ns/shop/sa/payments"), dir);
        var files = new CertificateFileLayout(dir);
        String json = new GrpcBootstrapGenerator().generate(node, endpoint, files);
        // grpc-java's parser (the one XdsServerBuilder and xds:/// channels use) reads the text we print.
        Bootstrapper.BootstrapInfo info = io.grpc.xds.BootstrapParsing.parse(json);
        assertThat(info.node().getId()).isEqualTo("shop/payments-1");
        assertThat(info.servers()).hasSize(1);
        assertThat(info.servers().getFirst().target()).isEqualTo("127.0.0.1:15012");
        assertThat(info.serverListenerResourceNameTemplate()).isEqualTo("grpc/server?xds.resource.listening_address=%s");
        assertThat(info.certProviders()).containsOnlyKeys("septa");
        assertThat(info.certProviders().get("septa").pluginName()).isEqualTo("file_watcher");
        assertThat((Map<String, Object>) info.certProviders().get("septa").config()).containsEntry("certificate_file", dir.resolve("cert.pem").toString())
                .containsEntry("private_key_file", dir.resolve("key.pem").toString())
                .containsEntry("ca_certificate_file", dir.resolve("ca.pem").toString());
        assertThat(json).contains("\"SEPTA_DIALECT\": \"grpc\"");
        assertThat(json).isEqualTo(new GrpcBootstrapGenerator().generate(node, endpoint, files));
        assertThat(List.of(json.split("\n"))).anyMatch(line -> line.contains("\"type\": \"tls\""));
    }

    @Test
    void relayedGrpcBootstrapNeedsNoFilesAndNoSeptaClassesToParse() throws Exception {
        // Insecure creds to the agent's socket: nothing is read at parse time, and no provider of ours is involved.
        Path dir = java.nio.file.Files.createTempDirectory("septa-bootstrap");
        var files = new CertificateFileLayout(dir);
        String uri = GrpcBootstrapGenerator.unixUri(dir.resolve("xds.sock"));
        String json = new GrpcBootstrapGenerator().generateRelayed(node, uri, files);
        Bootstrapper.BootstrapInfo info = io.grpc.xds.BootstrapParsing.parse(json);
        assertThat(info.servers().getFirst().target()).isEqualTo("unix:" + dir.resolve("xds.sock"));
        assertThat(info.servers().getFirst().implSpecificConfig()).isInstanceOf(io.grpc.InsecureChannelCredentials.class);
        assertThat(info.node().getId()).isEqualTo("shop/payments-1");
        assertThat(info.certProviders().get("septa").pluginName()).isEqualTo("file_watcher");
        assertThat(info.serverListenerResourceNameTemplate()).isEqualTo("grpc/server?xds.resource.listening_address=%s");
        assertThat(json).contains("\"type\": \"insecure\"").doesNotContain("\"tls\"");
    }
}
