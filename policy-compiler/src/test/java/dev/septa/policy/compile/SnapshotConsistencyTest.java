package dev.septa.policy.compile;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.septa.policy.emit.ProxyResources;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Every name a proxy will ask for is in its own resources (java-control-plane's SimpleCache starves a stream that
 * asks for a missing name), and nothing is sent that nobody references: RDS names in listeners = route configs,
 * EDS service names of clusters = load assignments, every route's cluster exists.
 */
class SnapshotConsistencyTest {

    @Test
    void everyGoldenProxyIsSelfConsistent() throws Exception {
        for (Path c : GoldenTest.cases()) {
            CompiledMesh mesh = GoldenTest.compileCase(c).mesh().orElseThrow();
            for (CompiledProxy proxy : mesh.proxies().values()) {
                for (Dialect d : Dialect.values()) {
                    check(c.getFileName() + " " + proxy.workloadId() + " " + d, proxy.resources(d));
                }
            }
        }
    }

    private static void check(String what, ProxyResources r) throws InvalidProtocolBufferException {
        Set<String> rdsNames = new TreeSet<>();
        Set<String> routedClusters = new TreeSet<>();
        Set<String> tcpClusters = new TreeSet<>();
        for (Listener l : r.listeners()) {
            Set<String> matches = new TreeSet<>();
            for (FilterChain chain : l.getFilterChainsList()) {
                var m = chain.getFilterChainMatch();
                List<String> prefixes = m.getPrefixRangesCount() == 0 ? List.of("*")
                        : m.getPrefixRangesList().stream().map(p -> p.getAddressPrefix() + "/" + p.getPrefixLen().getValue()).toList();
                for (String prefix : prefixes) {
                    assertThat(matches.add(m.getDestinationPort().getValue() + "|" + m.getTransportProtocol() + "|" + prefix))
                            .as(what + ": listener " + l.getName() + " has two chains matching " + prefix + " on port "
                                    + m.getDestinationPort().getValue()).isTrue();
                }
            }
            List<Any> configs = new ArrayList<>();
            if (l.hasApiListener()) {
                configs.add(l.getApiListener().getApiListener());
            }
            List<FilterChain> chains = new ArrayList<>(l.getFilterChainsList());
            if (l.hasDefaultFilterChain()) {
                chains.add(l.getDefaultFilterChain());
            }
            for (FilterChain chain : chains) {
                for (Filter f : chain.getFiltersList()) {
                    if (f.getTypedConfig().is(HttpConnectionManager.class)) {
                        configs.add(f.getTypedConfig());
                    } else if (f.getTypedConfig().is(io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.class)) {
                        tcpClusters.add(f.getTypedConfig().unpack(io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.class).getCluster());
                    }
                }
            }
            for (Any a : configs) {
                HttpConnectionManager hcm = a.unpack(HttpConnectionManager.class);
                if (hcm.hasRds()) {
                    rdsNames.add(hcm.getRds().getRouteConfigName());
                } else {
                    collectClusters(hcm.getRouteConfig(), routedClusters);
                }
            }
        }
        Set<String> routeNames = new TreeSet<>();
        for (RouteConfiguration rc : r.routes()) {
            routeNames.add(rc.getName());
            collectClusters(rc, routedClusters);
        }
        assertThat(routeNames).as(what + ": route configs").isEqualTo(rdsNames);
        Set<String> clusterNames = new TreeSet<>();
        Set<String> edsNames = new TreeSet<>();
        for (Cluster cl : r.clusters()) {
            clusterNames.add(cl.getName());
            if (cl.getType() == Cluster.DiscoveryType.EDS) {
                edsNames.add(cl.getEdsClusterConfig().getServiceName());
            }
        }
        Set<String> claNames = new TreeSet<>();
        r.endpoints().stream().map(ClusterLoadAssignment::getClusterName).forEach(claNames::add);
        assertThat(claNames).as(what + ": load assignments").isEqualTo(edsNames);
        assertThat(clusterNames).as(what + ": clusters").containsAll(routedClusters).containsAll(tcpClusters);
    }

    private static void collectClusters(RouteConfiguration rc, Set<String> out) {
        rc.getVirtualHostsList().forEach(vh -> vh.getRoutesList().forEach(route -> {
            if (route.hasRoute()) {
                out.add(route.getRoute().getCluster());
            }
        }));
    }
}
