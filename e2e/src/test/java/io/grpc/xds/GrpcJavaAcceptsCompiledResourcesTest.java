package io.grpc.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.emit.ProxyResources;
import dev.septa.policy.parse.InputFile;
import io.grpc.LoadBalancerRegistry;
import io.grpc.xds.client.Bootstrapper;
import io.grpc.xds.client.EnvoyProtoData;
import io.grpc.xds.client.XdsResourceType;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * grpc-java's own xDS resource parsers (the real peer; package-private, hence this package) accept every
 * proxyless resource the compiler emits for the example mesh and every golden case: what they reject would be a
 * NACK, what they silently drop (a locality without weight, say) would be a workload that cannot be reached.
 * Pinned to the grpc-xds version of the root pom; the parsers' signatures may change on upgrade.
 */
class GrpcJavaAcceptsCompiledResourcesTest {
    private static final Set<String> CERT_PROVIDERS = Set.of("septa");

    static List<Path> meshes() throws Exception {
        List<Path> dirs = new ArrayList<>(List.of(Path.of("../examples/shop")));
        try (Stream<Path> s = Files.list(Path.of("../policy-compiler/src/test/resources/golden"))) {
            s.map(p -> p.resolve("input")).filter(Files::isDirectory).sorted().forEach(dirs::add);
        }
        return dirs;
    }

    @TestFactory
    Stream<DynamicTest> everyProxylessResourceParses() throws Exception {
        return meshes().stream().map(dir -> DynamicTest.dynamicTest(dir.toString(), () -> check(compile(dir))));
    }

    private static CompiledMesh compile(Path dir) throws Exception {
        List<InputFile> inputs = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                inputs.add(new InputFile(p.toString(), Files.readString(p)));
            }
        }
        return PolicyCompiler.compile(inputs).mesh().orElseThrow();
    }

    private static void check(CompiledMesh mesh) throws Exception {
        var serverInfo = Bootstrapper.ServerInfo.create("localhost:1", "insecure");
        var bootstrap = Bootstrapper.BootstrapInfo.builder().servers(List.of(serverInfo))
                .node(EnvoyProtoData.Node.newBuilder().setId("test").build()).build();
        var args = new XdsResourceType.Args(serverInfo, "1", "nonce", bootstrap, null, null);
        var filters = FilterRegistry.getDefaultRegistry();
        var tls = (TlsContextManager) Proxy.newProxyInstance(TlsContextManager.class.getClassLoader(),
                new Class<?>[] {TlsContextManager.class}, (proxy, method, a) -> null);
        Method cla = XdsEndpointResource.class.getDeclaredMethod("processClusterLoadAssignment",
                io.grpc.xds.shaded.io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment.class);
        cla.setAccessible(true);
        int servers = 0;
        int overrides = 0;
        for (var proxy : mesh.proxies().values()) {
            ProxyResources r = proxy.grpc();
            for (var l : r.listeners()) {
                var listener = io.grpc.xds.shaded.io.envoyproxy.envoy.config.listener.v3.Listener.parseFrom(l.toByteArray());
                if (listener.hasApiListener()) {
                    var hcm = listener.getApiListener().getApiListener().unpack(
                            io.grpc.xds.shaded.io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.class);
                    assertThat(XdsListenerResource.parseHttpConnectionManager(hcm, filters, true, args).rdsName()).isEqualTo(l.getName());
                } else {
                    var parsed = XdsListenerResource.parseServerSideListener(listener, tls, filters, CERT_PROVIDERS, args);
                    assertThat(parsed.address()).isEqualTo("0.0.0.0:" + l.getAddress().getSocketAddress().getPortValue());
                    // Every HTTP filter emitted (septa.quarantine, septa.deny, septa.allow, router: constant, decision
                    // 0009) understood, none dropped as optional; the routes come by RDS.
                    var emitted = listener.getFilterChains(0).getFiltersList().stream()
                            .filter(f -> f.getTypedConfig().getTypeUrl().endsWith(".HttpConnectionManager")).findFirst().orElseThrow()
                            .getTypedConfig().unpack(io.grpc.xds.shaded.io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.class);
                    assertThat(emitted.getHttpFiltersCount()).isEqualTo(4);
                    var hcm = parsed.filterChains().getFirst().httpConnectionManager();
                    assertThat(hcm.httpFilterConfigs()).hasSize(4);
                    assertThat(hcm.virtualHosts()).isNull();
                    assertThat(hcm.rdsName()).isEqualTo("inbound|" + l.getAddress().getSocketAddress().getPortValue());
                    // Listener level: fail closed. septa.allow (ALLOW, no policy) is an engine that admits nobody.
                    for (var f : hcm.httpFilterConfigs()) {
                        if (f.name.equals("septa.allow")) {
                            assertThat(((RbacConfig) f.filterConfig).authConfig()).isNotNull();
                            assertThat(((RbacConfig) f.filterConfig).authConfig().policies()).isEmpty();
                        }
                    }
                    assertThat(r.routes().stream().map(rc -> rc.getName())).contains(hcm.rdsName());
                    servers++;
                }
            }
            for (var rc : r.routes()) {
                List<VirtualHost> hosts = XdsRouteConfigureResource.extractVirtualHosts(
                        io.grpc.xds.shaded.io.envoyproxy.envoy.config.route.v3.RouteConfiguration.parseFrom(rc.toByteArray()), filters, args);
                assertThat(hosts).isNotEmpty();
                if (rc.getName().startsWith("inbound|")) {
                    // The port's RBAC, as per-route overrides: every one parsed into an active engine.
                    var route = hosts.getFirst().routes().getFirst();
                    var emitted = rc.getVirtualHosts(0).getRoutes(0).getTypedPerFilterConfigMap();
                    assertThat(emitted).containsKeys("septa.deny", "septa.allow");
                    assertThat(route.filterConfigOverrides().keySet()).isEqualTo(emitted.keySet());
                    route.filterConfigOverrides().values().forEach(c -> assertThat(((RbacConfig) c).authConfig()).isNotNull());
                    overrides += emitted.size();
                }
            }
            for (var c : r.clusters()) {
                var cluster = io.grpc.xds.shaded.io.envoyproxy.envoy.config.cluster.v3.Cluster.parseFrom(c.toByteArray());
                assertThat(XdsClusterResource.processCluster(cluster, CERT_PROVIDERS, serverInfo, LoadBalancerRegistry.getDefaultRegistry())
                        .clusterName()).isEqualTo(c.getName());
            }
            for (var e : r.endpoints()) {
                Object update = cla.invoke(null, io.grpc.xds.shaded.io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment.parseFrom(e.toByteArray()));
                for (var locality : e.getEndpointsList()) {
                    for (var endpoint : locality.getLbEndpointsList()) {
                        assertThat(update.toString()).contains(endpoint.getEndpoint().getAddress().getSocketAddress().getAddress());
                    }
                }
            }
        }
        assertThat(servers).isPositive();
        assertThat(overrides).isGreaterThanOrEqualTo(2 * servers);
    }
}
