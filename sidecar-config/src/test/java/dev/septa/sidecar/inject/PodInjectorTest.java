package dev.septa.sidecar.inject;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.septa.sidecar.bootstrap.PodEnvoyBootstrapGenerator;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.grpc_credential.v3.FileBasedMetadataConfig;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class PodInjectorTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final PodInjector injector = new PodInjector(InjectionSettings.defaults("cluster.local").withProxyImage("example.org/envoy:1.36"));

    private static Pod payments() {
        return new PodBuilder()
                .withNewMetadata().withName("payments-1").withNamespace("shop")
                .addToLabels("app", "payments").addToLabels("tier", "backend")
                .addToAnnotations("owner", "team-pay").endMetadata()
                .withNewSpec().withServiceAccountName("payments")
                .addNewInitContainer().withName("migrate").withImage("shop/migrate:1").endInitContainer()
                .addNewContainer().withName("app").withImage("shop/payments:1")
                .addNewPort().withContainerPort(8443).withName("grpc").endPort()
                .addNewEnv().withName("MODE").withValue("prod").endEnv().endContainer()
                .addNewVolume().withName("data").withNewEmptyDir().endEmptyDir().endVolume()
                .endSpec().build();
    }

    @Test
    void envoyModeAddsCaptureThenTheNativeSidecarBeforeTheUsersInitContainers() throws Exception {
        Pod original = payments();
        Pod before = new PodBuilder(original).build();
        var result = injector.inject(original, null);

        assertThat(result.injected()).isTrue();
        assertThat(original).as("the input is not modified").isEqualTo(before);
        var spec = result.pod().getSpec();
        assertThat(spec.getInitContainers()).extracting(Container::getName).containsExactly("septa-init", "septa-proxy", "migrate");
        assertThat(spec.getContainers()).as("app containers untouched in Envoy mode").isEqualTo(before.getSpec().getContainers());
        assertThat(spec.getVolumes()).extracting(Volume::getName).containsExactly("data", "septa-token", "septa-trust");
        assertThat(result.pod().getMetadata().getAnnotations()).containsEntry("owner", "team-pay").containsEntry("septa.dev/status", "envoy");
        assertThat(result.pod().getMetadata().getLabels()).isEqualTo(before.getMetadata().getLabels());

        Container init = spec.getInitContainers().get(0);
        assertThat(init.getSecurityContext().getCapabilities().getAdd()).containsExactlyInAnyOrder("NET_ADMIN", "NET_RAW");
        String script = init.getCommand().get(2);
        assertThat(script).contains("-j REDIRECT --to-ports 15006", "-j REDIRECT --to-ports 15001",
                "--uid-owner 1337 -j RETURN", "--dport 15010 -j RETURN", "--dport 15000 -j RETURN");
        assertThat(script.indexOf("--uid-owner 1337")).as("Envoy's own traffic returns before the redirect")
                .isLessThan(script.indexOf("SEPTA_OUTPUT -p tcp -j SEPTA_REDIRECT"));

        Container proxy = spec.getInitContainers().get(1);
        assertThat(proxy.getImage()).isEqualTo("example.org/envoy:1.36");
        assertThat(proxy.getRestartPolicy()).isEqualTo("Always");
        assertThat(proxy.getSecurityContext().getRunAsUser()).isEqualTo(1337L);
        assertThat(proxy.getEnv()).extracting(EnvVar::getName).containsExactly("SEPTA_POD_NAME");
        assertThat(proxy.getEnv().getFirst().getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.name");

        // What Envoy reads once the kubelet expanded $(SEPTA_POD_NAME).
        String configYaml = proxy.getArgs().get(proxy.getArgs().indexOf("--config-yaml") + 1);
        Bootstrap bootstrap = PodEnvoyBootstrapGenerator.parse(expand(configYaml, Map.of("SEPTA_POD_NAME", "payments-1")));
        assertThat(bootstrap.getNode().getId()).isEqualTo("shop/payments-1");
        var metadata = bootstrap.getNode().getMetadata().getFieldsMap();
        assertThat(metadata.get("SEPTA_SERVICE_ACCOUNT").getStringValue()).isEqualTo("payments");
        assertThat(metadata.get("SEPTA_LABELS").getStructValue().getFieldsMap().get("tier").getStringValue()).isEqualTo("backend");
        var google = bootstrap.getDynamicResources().getAdsConfig().getGrpcServices(0).getGoogleGrpc();
        assertThat(google.getTargetUri()).isEqualTo("septa.septa-system.svc:15010");
        assertThat(google.getChannelCredentials().getSslCredentials().getRootCerts().getFilename()).isEqualTo(PodInjector.TRUST_FILE);
        var token = google.getCallCredentials(0).getFromPlugin().getTypedConfig().unpack(FileBasedMetadataConfig.class);
        assertThat(token.getSecretData().getFilename()).isEqualTo(PodInjector.TOKEN_FILE);
        assertThat(token.getHeaderPrefix()).isEqualTo("Bearer ");
        assertThat(proxy.getVolumeMounts()).allMatch(m -> m.getReadOnly());

        var tokenSource = spec.getVolumes().get(1).getProjected().getSources().getFirst().getServiceAccountToken();
        assertThat(tokenSource.getAudience()).isEqualTo("septa");
        assertThat(tokenSource.getExpirationSeconds()).isEqualTo(3600L);
        assertThat(spec.getVolumes().get(2).getConfigMap().getName()).isEqualTo("septa-trust-bundle");
    }

    @Test
    void injectingTwiceChangesNothing() {
        Pod once = injector.inject(payments(), null).pod();
        var twice = injector.inject(once, null);
        assertThat(twice.outcome()).isEqualTo(InjectionResult.Outcome.ALREADY_INJECTED);
        assertThat(twice.pod()).isEqualTo(once);

        // Septa's containers alone (annotation stripped by someone) are also recognised.
        Pod stripped = new PodBuilder(once).editMetadata().removeFromAnnotations("septa.dev/status").endMetadata().build();
        assertThat(injector.inject(stripped, null).outcome()).isEqualTo(InjectionResult.Outcome.ALREADY_INJECTED);
    }

    @Test
    void optOutAndHostNetworkPodsAreLeftAlone() {
        Pod optOut = new PodBuilder(payments()).editMetadata().addToAnnotations("septa.dev/inject", "false").endMetadata().build();
        var skipped = injector.inject(optOut, null);
        assertThat(skipped.outcome()).isEqualTo(InjectionResult.Outcome.SKIPPED);
        assertThat(skipped.pod()).isEqualTo(optOut);

        Pod host = new PodBuilder(payments()).editSpec().withHostNetwork(true).endSpec().build();
        var hostResult = injector.inject(host, null);
        assertThat(hostResult.outcome()).isEqualTo(InjectionResult.Outcome.SKIPPED);
        assertThat(hostResult.reason()).contains("hostNetwork");
        assertThat(hostResult.pod()).isEqualTo(host);
    }

    @Test
    void proxylessPodsGetTheAgentAndTheGrpcBootstrapNoCapture() throws Exception {
        Pod pod = new PodBuilder(payments()).editMetadata().addToAnnotations("septa.dev/proxyless", "true").endMetadata()
                .editSpec().editFirstContainer().withNewSecurityContext().withRunAsUser(1000L).withRunAsGroup(1000L).endSecurityContext()
                .endContainer().addToContainers(new ContainerBuilder().withName("cache").withImage("redis:7").build()).endSpec().build();
        var result = injector.inject(pod, "shop");

        var spec = result.pod().getSpec();
        assertThat(result.pod().getMetadata().getAnnotations()).containsEntry("septa.dev/status", "grpc");
        assertThat(spec.getInitContainers()).extracting(Container::getName).containsExactly("septa-agent", "migrate");
        Container agent = spec.getInitContainers().getFirst();
        assertThat(agent.getRestartPolicy()).isEqualTo("Always");
        assertThat(agent.getCommand()).containsSubsequence("septa", "agent", "--workload", "shop/$(SEPTA_POD_NAME)", "--dir", "/var/run/septa/certs",
                "--server", "septa.septa-system.svc:15010", "--token-file", PodInjector.TOKEN_FILE);
        assertThat(agent.getSecurityContext().getRunAsUser()).as("key.pem is 0600: the agent runs as the app").isEqualTo(1000L);
        assertThat(agent.getStartupProbe().getExec().getCommand()).containsExactly("test", "-s", "/var/run/septa/certs/ca.pem");
        assertThat(spec.getVolumes()).filteredOn(v -> v.getName().equals("septa-certs"))
                .singleElement().satisfies(v -> assertThat(v.getEmptyDir().getMedium()).isEqualTo("Memory"));

        for (Container app : spec.getContainers()) {
            List<String> names = app.getEnv().stream().map(EnvVar::getName).toList();
            assertThat(names).containsSubsequence("SEPTA_POD_NAME", "GRPC_XDS_BOOTSTRAP_CONFIG");
            assertThat(app.getVolumeMounts()).anySatisfy(m -> {
                assertThat(m.getMountPath()).isEqualTo("/var/run/septa/certs");
                assertThat(m.getReadOnly()).isTrue();
            });
            String value = app.getEnv().stream().filter(e -> e.getName().equals("GRPC_XDS_BOOTSTRAP_CONFIG")).findFirst().orElseThrow().getValue();
            JsonNode bootstrap = JSON.readTree(expand(value, Map.of("SEPTA_POD_NAME", "payments-1")));
            assertThat(bootstrap.at("/node/id").asText()).isEqualTo("shop/payments-1");
            assertThat(bootstrap.at("/node/metadata/SEPTA_SERVICE_ACCOUNT").asText()).isEqualTo("payments");
            assertThat(bootstrap.at("/xds_servers/0/server_uri").asText()).isEqualTo("septa.septa-system.svc:15010");
            assertThat(bootstrap.at("/xds_servers/0/channel_creds/0/config/certificate_file").asText()).isEqualTo("/var/run/septa/certs/cert.pem");
        }
        assertThat(spec.getContainers().getFirst().getEnv().getFirst().getName()).as("the app's own env stays first").isEqualTo("MODE");
        assertThat(spec.getInitContainers()).noneMatch(c -> c.getName().equals("septa-init"));
    }

    @Test
    void anAppsOwnGrpcBootstrapWins() {
        Pod pod = new PodBuilder(payments()).editMetadata().addToAnnotations("septa.dev/proxyless", "true").endMetadata()
                .editSpec().editFirstContainer().addNewEnv().withName("GRPC_XDS_BOOTSTRAP").withValue("/etc/mine.json").endEnv()
                .endContainer().endSpec().build();
        var app = injector.inject(pod, null).pod().getSpec().getContainers().getFirst();
        assertThat(app.getEnv()).extracting(EnvVar::getName).containsExactly("MODE", "GRPC_XDS_BOOTSTRAP");
    }

    @Test
    void aTemplateTakesTheGivenNamespace() {
        var template = new io.fabric8.kubernetes.api.model.PodTemplateSpec(payments().getMetadata(), payments().getSpec());
        template.getMetadata().setName(null);
        template.getMetadata().setNamespace(null);
        var result = injector.inject(template, "billing");
        Container proxy = result.template().getSpec().getInitContainers().get(1);
        assertThat(proxy.getArgs().get(1)).contains("\"id\":\"billing/$(SEPTA_POD_NAME)\"");
    }

    @Test
    void grpcJavasOwnParserReadsTheInjectedBootstrap(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        Pod pod = new PodBuilder(payments()).editMetadata().addToAnnotations("septa.dev/proxyless", "true").endMetadata().build();
        var app = injector.inject(pod, null).pod().getSpec().getContainers().getFirst();
        String value = app.getEnv().stream().filter(e -> e.getName().equals("GRPC_XDS_BOOTSTRAP_CONFIG")).findFirst().orElseThrow().getValue();
        // grpc builds the tls channel credentials while parsing: the agent's files must exist (here in a temp dir).
        var pki = new dev.septa.sidecar.testing.TestPki("inject-test");
        pki.writeFiles(pki.issue("spiffe://cluster.local/ns/shop/sa/payments"), dir);
        String json = expand(value, Map.of("SEPTA_POD_NAME", "payments-1")).replace(PodInjector.CERTS_DIR, dir.toString());
        var info = io.grpc.xds.BootstrapParsing.parse(json);
        assertThat(info.node().getId()).isEqualTo("shop/payments-1");
        assertThat(info.servers().getFirst().target()).isEqualTo("septa.septa-system.svc:15010");
        assertThat(info.certProviders()).containsOnlyKeys("septa");
    }

    /** Kubernetes' expansion of {@code $(VAR)} in args and env values (unknown references stay as written). */
    static String expand(String text, Map<String, String> env) {
        Matcher m = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)").matcher(text);
        return m.replaceAll(r -> Matcher.quoteReplacement(env.getOrDefault(r.group(1), r.group())));
    }
}
