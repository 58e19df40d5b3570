package dev.septa.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.e2e.support.ShopExample;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.parse.InputFile;
import dev.septa.sidecar.bootstrap.ControlPlaneEndpoint;
import dev.septa.sidecar.bootstrap.EnvoyBootstrapGenerator;
import dev.septa.sidecar.bootstrap.ProxyNode;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.access_loggers.grpc.v3.TcpGrpcAccessLogConfig;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The compiler (policy-compiler) names the cluster the inbound access logs go to; the Envoy bootstrap (sidecar-config)
 * must define it as a static cluster, or Envoy rejects the listener. The two modules do not know each other: this
 * test holds them together.
 */
class EnvoyAccessLogClusterTest {

    @Test
    void everyInboundAccessLogGoesToAStaticClusterOfTheBootstrap() throws Exception {
        List<InputFile> inputs = new ArrayList<>();
        Path shop = ShopExample.root();
        try (var files = Files.list(shop.resolve("intents"))) {
            for (Path f : files.sorted().toList()) {
                inputs.add(new InputFile(f.toString(), Files.readString(f)));
            }
        }
        inputs.add(new InputFile("inventory.yaml", Files.readString(shop.resolve("inventory.yaml"))));
        var compiled = PolicyCompiler.compile(inputs).mesh().orElseThrow();

        Set<String> targets = new java.util.TreeSet<>();
        Set<String> logNames = new java.util.TreeSet<>();
        int logs = 0;
        for (var proxy : compiled.proxies().values()) {
            for (Listener l : proxy.envoy().listeners()) {
                if (!l.getName().equals("inbound")) {
                    continue;
                }
                List<FilterChain> chains = new ArrayList<>(l.getFilterChainsList());
                chains.add(l.getDefaultFilterChain());
                for (FilterChain chain : chains) {
                    for (Filter f : chain.getFiltersList()) {
                        List<AccessLog> found = f.getTypedConfig().is(HttpConnectionManager.class)
                                ? f.getTypedConfig().unpack(HttpConnectionManager.class).getAccessLogList()
                                : f.getTypedConfig().is(TcpProxy.class) ? f.getTypedConfig().unpack(TcpProxy.class).getAccessLogList() : List.of();
                        for (AccessLog log : found) {
                            var common = log.getTypedConfig().is(HttpGrpcAccessLogConfig.class)
                                    ? log.getTypedConfig().unpack(HttpGrpcAccessLogConfig.class).getCommonConfig()
                                    : log.getTypedConfig().unpack(TcpGrpcAccessLogConfig.class).getCommonConfig();
                            targets.add(common.getGrpcService().getEnvoyGrpc().getClusterName());
                            logNames.add(common.getLogName());
                            logs++;
                        }
                    }
                }
            }
        }
        assertThat(logs).as("inbound access logs in the shop's Envoy listeners").isGreaterThan(compiled.proxies().size());
        assertThat(logNames).containsExactly("septa.inbound");

        var bootstrap = new EnvoyBootstrapGenerator().generate(new ProxyNode("shop", "payments-1", Map.of("app", "payments"), "payments"),
                new ControlPlaneEndpoint("127.0.0.1", 15010, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
                "spiffe://cluster.local/ns/septa-system/sa/control-plane", "token");
        Set<String> staticClusters = bootstrap.getStaticResources().getClustersList().stream().map(Cluster::getName)
                .collect(Collectors.toSet());
        assertThat(staticClusters).containsAll(targets);
        assertThat(targets).containsExactly(EnvoyBootstrapGenerator.ALS_CLUSTER);
    }
}
