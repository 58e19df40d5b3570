package dev.septa.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.septa.policy.validate.EnvoyResourceValidation;
import dev.septa.sidecar.bootstrap.PodEnvoyBootstrapGenerator;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.grpc_credential.v3.FileBasedMetadataConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The bootstrap `septa inject` gives the Envoy sidecar passes Envoy's own validation rules (PGV, every Any unpacked). */
class InjectedEnvoyBootstrapValidationTest {
    @Test
    void theInjectedBootstrapIsValidForEnvoy(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("pod.yaml");
        Files.writeString(file, """
                apiVersion: v1
                kind: Pod
                metadata: {name: payments-1, namespace: shop, labels: {app: payments}}
                spec:
                  serviceAccountName: payments
                  containers: [{name: app, image: shop/payments:1}]
                """);
        StringWriter out = new StringWriter();
        CommandLine cli = SeptaCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(new StringWriter(), true));
        assertThat(cli.execute("inject", "-f", file.toString(), "--xds-address", "septa.mesh-system.svc:15012")).isZero();

        Pod pod = new ObjectMapper(new YAMLFactory()).readValue(out.toString(), Pod.class);
        var proxy = pod.getSpec().getInitContainers().stream().filter(c -> c.getName().equals("septa-proxy")).findFirst().orElseThrow();
        String json = proxy.getArgs().get(proxy.getArgs().indexOf("--config-yaml") + 1).replace("$(SEPTA_POD_NAME)", "payments-1");
        Bootstrap bootstrap = PodEnvoyBootstrapGenerator.parse(json);
        assertThat(bootstrap.getNode().getId()).isEqualTo("shop/payments-1");
        GrpcService xds = bootstrap.getDynamicResources().getAdsConfig().getGrpcServices(0);
        assertThat(xds.getGoogleGrpc().getTargetUri()).isEqualTo("septa.mesh-system.svc:15012");

        // The harness knows the Any types the compiler emits; the token credentials' config is checked on its own.
        var credentials = xds.getGoogleGrpc().getCallCredentials(0).getFromPlugin();
        FileBasedMetadataConfig token = credentials.getTypedConfig().unpack(FileBasedMetadataConfig.class);
        EnvoyResourceValidation.assertValid(token);
        assertThatThrownBy(() -> EnvoyResourceValidation.assertValid(bootstrap)).as("guards the harness: an unknown Any fails")
                .hasMessageContaining("FileBasedMetadataConfig");
        EnvoyResourceValidation.assertValid(withoutTokenConfig(bootstrap));
        var als = bootstrap.getStaticResources().getClusters(0);
        assertThat(als.getTransportSocket().getTypedConfig().unpack(UpstreamTlsContext.class).getCommonTlsContext()
                .getTlsCertificateSdsSecretConfigs(0).getName()).isEqualTo("default");
    }

    /** The bootstrap with each call credential's typed_config cleared (it was validated separately). */
    private static Bootstrap withoutTokenConfig(Bootstrap bootstrap) {
        var builder = bootstrap.toBuilder();
        var google = builder.getDynamicResourcesBuilder().getAdsConfigBuilder().getGrpcServicesBuilder(0).getGoogleGrpcBuilder();
        google.getCallCredentialsBuilder(0).getFromPluginBuilder().clearTypedConfig();
        var sds = builder.getStaticResourcesBuilder().getClustersBuilder(0);
        var tls = sds.getTransportSocket().getTypedConfig();
        try {
            var upstream = tls.unpack(UpstreamTlsContext.class).toBuilder();
            upstream.getCommonTlsContextBuilder().getTlsCertificateSdsSecretConfigsBuilder(0).getSdsConfigBuilder()
                    .getApiConfigSourceBuilder().getGrpcServicesBuilder(0).getGoogleGrpcBuilder()
                    .getCallCredentialsBuilder(0).getFromPluginBuilder().clearTypedConfig();
            sds.getTransportSocketBuilder().setTypedConfig(com.google.protobuf.Any.pack(upstream.build()));
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
        return builder.build();
    }
}
