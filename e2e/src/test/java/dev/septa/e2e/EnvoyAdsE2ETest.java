package dev.septa.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.septa.controlplane.ControlPlane;
import dev.septa.controlplane.ControlPlaneOptions;
import dev.septa.controlplane.support.AdsTestClient;
import dev.septa.e2e.support.ShopExample;
import dev.septa.policy.validate.EnvoyResourceValidation;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The Envoy dialect end to end: the real control plane on a copy of {@code examples/shop}, and a raw ADS client that
 * subscribes as Envoy does (CDS then EDS, LDS then RDS, SDS over ADS), checks every resource against Envoy's own
 * validation rules, ACKs every response, follows an intent edit, and compares delta ADS with state of the world.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EnvoyAdsE2ETest {
    static final String LDS = Resources.V3.LISTENER_TYPE_URL;
    static final String RDS = Resources.V3.ROUTE_TYPE_URL;
    static final String CDS = Resources.V3.CLUSTER_TYPE_URL;
    static final String EDS = Resources.V3.ENDPOINT_TYPE_URL;
    static final String SDS = Resources.V3.SECRET_TYPE_URL;

    Path shop;
    Path state;
    ControlPlane cp;
    String trustBundle;

    @BeforeAll
    void start() throws Exception {
        Path work = Files.createTempDirectory("septa-envoy-e2e");
        shop = ShopExample.copyTo(work.resolve("shop"));
        state = work.resolve("state");
        cp = ControlPlane.start(ControlPlaneOptions.builder().intentsDir(shop.resolve("intents"))
                .inventoryFile(shop.resolve("inventory.yaml")).stateDir(state)
                .xdsHost("127.0.0.1").xdsPort(0).httpHost("127.0.0.1").httpPort(0).build());
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (cp.core().meshState().mesh().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(cp.core().meshState().mesh()).as("first compile").isPresent();
        trustBundle = Files.readString(state.resolve("ca").resolve("trust-bundle.pem"));
    }

    @AfterAll
    void stop() {
        if (cp != null) {
            cp.close();
        }
    }

    AdsTestClient client(String tokenFor) {
        return new AdsTestClient(cp.xdsPort(), trustBundle, cp.core().nodeTokens().mint(tokenFor), null);
    }

    @Test
    void envoyNodeReceivesValidResourcesForItselfAcksThemAndFollowsAnIntentEdit() throws Exception {
        try (AdsTestClient client = client("shop/payments-1")) {
            EnvoyStream envoy = new EnvoyStream(client.sotw(), AdsTestClient.node("shop/payments-1", "envoy"));
            Map<String, Map<String, Message>> got = envoy.subscribeLikeEnvoy();

            Listener inbound = (Listener) got.get(LDS).get("inbound");
            assertThat(inbound).as("listener inbound").isNotNull();
            assertThat(inbound.getAddress().getSocketAddress().getPortValue()).isEqualTo(15006);
            FilterChain chain8443 = inbound.getFilterChainsList().stream()
                    .filter(fc -> fc.getFilterChainMatch().getDestinationPort().getValue() == 8443).findFirst().orElseThrow();
            // Decision 0009: constant filters on the chain (septa.allow fails closed there), the rules on its route.
            Map<String, RBAC> listenerLevel = rbacFilters(chain8443);
            assertThat(listenerLevel).containsOnlyKeys("septa.quarantine", "septa.deny", "septa.allow");
            assertThat(listenerLevel.values()).allSatisfy(r -> assertThat(r.getRules().getPoliciesMap()).isEmpty());
            assertThat(listenerLevel.get("septa.allow").getRules().getAction()).isEqualTo(io.envoyproxy.envoy.config.rbac.v3.RBAC.Action.ALLOW);
            Map<String, RBAC> rbac = routeRbac((RouteConfiguration) got.get(RDS).get("inbound|8443"));
            assertThat(rbac).containsOnlyKeys("septa.deny", "septa.allow");
            assertThat(rbac.get("septa.deny").getRules().getPoliciesMap()).containsOnlyKeys("shop/storefront-never-pays");
            assertThat(rbac.get("septa.allow").getRules().getPoliciesMap())
                    .containsOnlyKeys("shop/checkout-may-charge", "shop/monitoring-may-probe");
            Listener outbound = (Listener) got.get(LDS).get("outbound");
            assertThat(outbound).as("listener outbound").isNotNull();
            assertThat(outbound.getAddress().getSocketAddress().getPortValue()).isEqualTo(15001);
            // payments-1 may reach no service of the shop: egress scoping sends it no outbound cluster.
            assertThat(got.get(CDS).keySet()).isNotEmpty().noneMatch(name -> name.startsWith("outbound|"));
            assertSvid(got.get(SDS), "spiffe://cluster.local/ns/shop/sa/payments");

            // An intent edit that concerns payments-1: a new Allow policy on its inbound 8443, pushed by RDS.
            String rds = envoy.version(RDS);
            Files.writeString(shop.resolve("intents/intents.yaml"), """
                    ---
                    apiVersion: septa.dev/v1alpha1
                    kind: Intent
                    metadata: {name: catalog-may-refund, namespace: shop}
                    spec:
                      action: Allow
                      from: [{segment: catalog}]
                      to:
                        segment: payments
                        ports: [{port: 8443, protocol: GRPC, http: {paths: ["/shop.Payments/Refund"]}}]
                    """, StandardOpenOption.APPEND);
            DiscoveryResponse pushed = envoy.stream.next(RDS);
            assertThat(pushed.getVersionInfo()).isNotEqualTo(rds);
            Map<String, Message> routes = envoy.acceptAndAck(pushed);
            assertThat(routeRbac((RouteConfiguration) routes.get("inbound|8443")).get("septa.allow").getRules().getPoliciesMap())
                    .containsKey("shop/catalog-may-refund");
            awaitInSync();
        }
    }

    @Test
    void envoyNodeWithOutboundServicesGetsTheirClustersEndpointsAndRoutesOnly() {
        try (AdsTestClient client = client("shop/checkout-1")) {
            EnvoyStream envoy = new EnvoyStream(client.sotw(), AdsTestClient.node("shop/checkout-1", "envoy"));
            Map<String, Map<String, Message>> got = envoy.subscribeLikeEnvoy();
            assertThat(got.get(CDS).keySet().stream().filter(n -> n.startsWith("outbound|")).toList())
                    .containsExactlyInAnyOrder("outbound|8443||payments.shop", "outbound|9090||catalog.shop");
            assertThat(got.get(EDS)).containsOnlyKeys("outbound|8443||payments.shop", "outbound|9090||catalog.shop");
            assertThat(got.get(RDS)).isNotEmpty();
            assertSvid(got.get(SDS), "spiffe://cluster.local/ns/shop/sa/checkout");
        }
    }

    @Test
    void deltaAdsDeliversTheSameContentAsStateOfTheWorld() {
        String nodeId = "shop/checkout-1";
        Map<String, Map<String, Message>> sotw;
        try (AdsTestClient client = client(nodeId)) {
            sotw = new EnvoyStream(client.sotw(), AdsTestClient.node(nodeId, "envoy")).subscribeLikeEnvoy();
        }
        Map<String, Map<String, Message>> delta = new TreeMap<>();
        try (AdsTestClient client = client(nodeId)) {
            var stream = client.delta();
            var node = AdsTestClient.node(nodeId, "envoy");
            for (String type : List.of(CDS, LDS)) {
                stream.send(DeltaDiscoveryRequest.newBuilder().setNode(node).setTypeUrl(type).build());
                delta.put(type, acceptDelta(stream, node, stream.next(type)));
            }
            Map<String, Set<String>> named = Map.of(EDS, sotw.get(EDS).keySet(), RDS, sotw.get(RDS).keySet(),
                    SDS, Set.of("default", "ROOTCA"));
            for (var e : named.entrySet()) {
                stream.send(DeltaDiscoveryRequest.newBuilder().setNode(node).setTypeUrl(e.getKey())
                        .addAllResourceNamesSubscribe(e.getValue()).build());
                delta.put(e.getKey(), acceptDelta(stream, node, stream.next(e.getKey())));
            }
        }
        for (String type : List.of(LDS, RDS, CDS, EDS)) {
            assertThat(delta.get(type)).as(type).isEqualTo(sotw.get(type));
        }
        // Secrets: the same names and the same certificate (each stream of a node gets the node's SVID).
        assertThat(delta.get(SDS).keySet()).isEqualTo(sotw.get(SDS).keySet());
        assertThat(((Secret) delta.get(SDS).get("default")).getTlsCertificate().getCertificateChain())
                .isEqualTo(((Secret) sotw.get(SDS).get("default")).getTlsCertificate().getCertificateChain());
    }

    @Test
    void aTokenForOneNodeCannotSpeakAsAnother() {
        try (AdsTestClient client = client("shop/payments-1")) {
            var stream = client.sotw();
            stream.send(DiscoveryRequest.newBuilder().setNode(AdsTestClient.node("shop/checkout-1", "envoy"))
                    .setTypeUrl(CDS).build());
            assertThat(stream.awaitEnd().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        }
    }

    private Map<String, Message> acceptDelta(AdsTestClient.Stream<DeltaDiscoveryRequest, DeltaDiscoveryResponse> stream,
                                             io.envoyproxy.envoy.config.core.v3.Node node, DeltaDiscoveryResponse r) {
        Map<String, Message> out = new TreeMap<>();
        for (var resource : r.getResourcesList()) {
            out.put(resource.getName(), EnvoyStream.unpackValid(resource.getResource()));
        }
        stream.send(DeltaDiscoveryRequest.newBuilder().setNode(node).setTypeUrl(r.getTypeUrl())
                .setResponseNonce(r.getNonce()).build());
        return out;
    }

    private void awaitInSync() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!cp.core().cache().allInSync() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(cp.core().cache().allInSync()).as("every proxy ACKed the configuration in force").isTrue();
    }

    static Map<String, RBAC> rbacFilters(FilterChain chain) throws InvalidProtocolBufferException {
        Filter hcmFilter = chain.getFiltersList().stream()
                .filter(f -> f.getName().equals("envoy.filters.network.http_connection_manager")).findFirst().orElseThrow();
        HttpConnectionManager hcm = hcmFilter.getTypedConfig().unpack(HttpConnectionManager.class);
        Map<String, RBAC> out = new TreeMap<>();
        for (HttpFilter f : hcm.getHttpFiltersList()) {
            if (f.getTypedConfig().getTypeUrl().endsWith("rbac.v3.RBAC")) {
                out.put(f.getName(), f.getTypedConfig().unpack(RBAC.class));
            }
        }
        return out;
    }

    /** The RBAC of each filter the route's {@code typed_per_filter_config} overrides (RBACPerRoute). */
    static Map<String, RBAC> routeRbac(RouteConfiguration rc) throws InvalidProtocolBufferException {
        Map<String, RBAC> out = new TreeMap<>();
        for (var e : rc.getVirtualHosts(0).getRoutes(0).getTypedPerFilterConfigMap().entrySet()) {
            out.put(e.getKey(), e.getValue().unpack(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBACPerRoute.class).getRbac());
        }
        return out;
    }

    static void assertSvid(Map<String, Message> secrets, String spiffeId) {
        assertThat(secrets).containsOnlyKeys("default", "ROOTCA");
        Secret svid = (Secret) secrets.get("default");
        assertThat(svid.hasTlsCertificate()).isTrue();
        assertThat(svid.getTlsCertificate().getPrivateKey().getInlineBytes().isEmpty()
                && svid.getTlsCertificate().getPrivateKey().getInlineString().isEmpty()).as("the SVID carries its key").isFalse();
        try {
            var chain = svid.getTlsCertificate().getCertificateChain();
            byte[] pem = chain.hasInlineBytes() ? chain.getInlineBytes().toByteArray()
                    : chain.getInlineString().getBytes(StandardCharsets.US_ASCII);
            var leaf = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem))
                    .iterator().next();
            List<String> uris = new ArrayList<>();
            for (List<?> san : leaf.getSubjectAlternativeNames()) {
                if ((Integer) san.get(0) == 6) {
                    uris.add((String) san.get(1));
                }
            }
            assertThat(uris).containsExactly(spiffeId);
        } catch (java.security.cert.CertificateException e) {
            throw new AssertionError("the SVID's certificate chain does not parse: " + e.getMessage());
        }
        assertThat(((Secret) secrets.get("ROOTCA")).hasValidationContext()).isTrue();
    }

    /** An Envoy-like SotW ADS conversation: every response validated and ACKed with its version and nonce. */
    static final class EnvoyStream {
        final AdsTestClient.Stream<DiscoveryRequest, DiscoveryResponse> stream;
        final io.envoyproxy.envoy.config.core.v3.Node node;
        final Map<String, List<String>> subscribed = new TreeMap<>();
        final Map<String, String> versions = new TreeMap<>();

        EnvoyStream(AdsTestClient.Stream<DiscoveryRequest, DiscoveryResponse> stream, io.envoyproxy.envoy.config.core.v3.Node node) {
            this.stream = stream;
            this.node = node;
        }

        String version(String type) {
            return versions.get(type);
        }

        /** CDS wildcard, EDS for the EDS clusters; LDS wildcard, RDS for the routes the listeners name; SDS for the secrets. */
        Map<String, Map<String, Message>> subscribeLikeEnvoy() {
            Map<String, Map<String, Message>> got = new TreeMap<>();
            got.put(CDS, subscribe(CDS, List.of()));
            List<String> edsClusters = got.get(CDS).values().stream().map(Cluster.class::cast)
                    .filter(c -> c.getType() == Cluster.DiscoveryType.EDS)
                    .map(c -> c.getEdsClusterConfig().getServiceName().isEmpty() ? c.getName() : c.getEdsClusterConfig().getServiceName())
                    .sorted().toList();
            got.put(EDS, edsClusters.isEmpty() ? Map.of() : subscribe(EDS, edsClusters));
            assertThat(got.get(EDS)).containsOnlyKeys(edsClusters);
            got.put(LDS, subscribe(LDS, List.of()));
            Set<String> routeNames = new TreeSet<>();
            for (Message m : got.get(LDS).values()) {
                for (FilterChain fc : ((Listener) m).getFilterChainsList()) {
                    for (Filter f : fc.getFiltersList()) {
                        if (f.getTypedConfig().is(HttpConnectionManager.class)) {
                            HttpConnectionManager hcm = unpack(f.getTypedConfig(), HttpConnectionManager.class);
                            if (hcm.hasRds()) {
                                routeNames.add(hcm.getRds().getRouteConfigName());
                            }
                        }
                    }
                }
            }
            got.put(RDS, routeNames.isEmpty() ? Map.of() : subscribe(RDS, List.copyOf(routeNames)));
            assertThat(got.get(RDS)).containsOnlyKeys(routeNames);
            got.put(SDS, subscribe(SDS, List.of("default", "ROOTCA")));
            return got;
        }

        Map<String, Message> subscribe(String type, List<String> names) {
            subscribed.put(type, names);
            stream.send(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(type).addAllResourceNames(names).build());
            return acceptAndAck(stream.next(type));
        }

        /** Validates every resource of a response (secrets without ever printing them), then ACKs it. */
        Map<String, Message> acceptAndAck(DiscoveryResponse r) {
            assertThat(r.getVersionInfo()).isNotEmpty();
            assertThat(r.getNonce()).isNotEmpty();
            Map<String, Message> out = new TreeMap<>();
            for (Any any : r.getResourcesList()) {
                Message m = unpackValid(any);
                String name = switch (m) {
                    case Listener l -> l.getName();
                    case Cluster c -> c.getName();
                    case ClusterLoadAssignment c -> c.getClusterName();
                    case RouteConfiguration rc -> rc.getName();
                    case Secret s -> s.getName();
                    default -> throw new AssertionError("unexpected resource type " + any.getTypeUrl());
                };
                assertThat(out.put(name, m)).as("%s sent once", name).isNull();
            }
            versions.put(r.getTypeUrl(), r.getVersionInfo());
            stream.send(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(r.getTypeUrl())
                    .addAllResourceNames(subscribed.getOrDefault(r.getTypeUrl(), List.of()))
                    .setVersionInfo(r.getVersionInfo()).setResponseNonce(r.getNonce()).build());
            return out;
        }

        static Message unpackValid(Any any) {
            Message m = switch (any.getTypeUrl()) {
                case LDS -> unpack(any, Listener.class);
                case CDS -> unpack(any, Cluster.class);
                case EDS -> unpack(any, ClusterLoadAssignment.class);
                case RDS -> unpack(any, RouteConfiguration.class);
                case SDS -> unpack(any, Secret.class);
                default -> throw new AssertionError("unexpected resource type " + any.getTypeUrl());
            };
            if (m instanceof Secret s) {
                try {
                    EnvoyResourceValidation.assertValid(s);
                } catch (AssertionError e) {
                    // the validator quotes the offending value: never let a key reach a test report
                    String msg = String.valueOf(e.getMessage());
                    int cut = msg.indexOf(" (value:");
                    throw new AssertionError("secret " + s.getName() + " invalid: " + (cut < 0 ? "" : msg.substring(0, cut)));
                }
            } else {
                EnvoyResourceValidation.assertValid(m);
            }
            return m;
        }

        static <T extends Message> T unpack(Any any, Class<T> type) {
            try {
                return any.unpack(type);
            } catch (InvalidProtocolBufferException e) {
                throw new AssertionError(any.getTypeUrl() + " does not parse", e);
            }
        }
    }
}
