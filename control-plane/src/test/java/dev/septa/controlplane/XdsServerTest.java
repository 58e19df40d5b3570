package dev.septa.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.rpc.Status;
import dev.septa.controlplane.status.StatusReport;
import dev.septa.controlplane.support.AdsTestClient;
import dev.septa.controlplane.support.TestControlPlane;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The xDS server over real gRPC with TLS on loopback, driven by raw ADS clients speaking as nodes. */
class XdsServerTest {
    static final String LDS = Resources.V3.LISTENER_TYPE_URL;
    static final String CDS = Resources.V3.CLUSTER_TYPE_URL;
    static final String SDS = Resources.V3.SECRET_TYPE_URL;
    static final String MESH = """
            workload shop/a a
            workload shop/b b
            workload shop/c shared
            workload shop/d shared
            listener shop/a inbound 15006
            cluster shop/a outbound|8443||b.shop
            listener shop/b inbound 15006
            listener shop/c inbound 15006
            listener shop/d inbound 15006
            """;

    @TempDir
    Path dir;
    TestControlPlane cp;

    @BeforeEach
    void start() throws Exception {
        cp = new TestControlPlane(dir, MESH);
    }

    @AfterEach
    void stop() {
        cp.close();
    }

    static DiscoveryRequest request(String node, String typeUrl, String version, String nonce, String... names) {
        return DiscoveryRequest.newBuilder().setNode(AdsTestClient.node(node, "envoy")).setTypeUrl(typeUrl)
                .setVersionInfo(version).setResponseNonce(nonce).addAllResourceNames(List.of(names)).build();
    }

    static DiscoveryRequest ack(String node, DiscoveryResponse r, String... names) {
        return request(node, r.getTypeUrl(), r.getVersionInfo(), r.getNonce(), names);
    }

    static List<String> listenerNames(DiscoveryResponse r) throws Exception {
        List<String> names = new java.util.ArrayList<>();
        for (Any any : r.getResourcesList()) {
            names.add(any.unpack(Listener.class).getName());
        }
        return names;
    }

    @Test
    void envoyNodeReceivesItsResourcesAndAcksAndNoOpEditPushesNothing() throws Exception {
        try (AdsTestClient client = cp.clientWithToken("shop/a")) {
            var stream = client.sotw();
            DiscoveryResponse lds = stream.send(request("shop/a", LDS, "", "")).next();
            assertThat(lds.getTypeUrl()).isEqualTo(LDS);
            assertThat(listenerNames(lds)).containsExactly("inbound");
            stream.send(ack("shop/a", lds));
            DiscoveryResponse cds = stream.send(request("shop/a", CDS, "", "")).next();
            assertThat(cds.getResources(0).unpack(Cluster.class).getName()).isEqualTo("outbound|8443||b.shop");
            stream.send(ack("shop/a", cds));
            await().until(() -> proxy("shop/a").inSync());

            // Same content for a (b gains a cluster; a comment): a's versions do not change, nothing is sent to a.
            cp.write("mesh.yaml", MESH + "# a comment\ncluster shop/b outbound|80||x.shop\n");
            assertThat(cp.core.meshState().status().ok()).isTrue();
            // Then a real change for a: the very next message on a's stream is that change.
            cp.write("mesh.yaml", MESH + "listener shop/a extra 15001\n");
            DiscoveryResponse changed = stream.next();
            assertThat(changed.getTypeUrl()).isEqualTo(LDS);
            assertThat(changed.getVersionInfo()).isNotEqualTo(lds.getVersionInfo());
            assertThat(listenerNames(changed)).containsExactlyInAnyOrder("inbound", "extra");
            stream.send(ack("shop/a", changed));
            await().until(() -> proxy("shop/a").inSync());
            assertThat(cp.registry.find("septa.push.latency").tag("dialect", "envoy").timer().count()).isGreaterThanOrEqualTo(1);
            assertThat(cp.registry.find("septa.xds.pushes").tag("type", "Listener").counter().count()).isGreaterThanOrEqualTo(2);
            assertThat(stream.pending()).isZero();
        }
    }

    @Test
    void deltaAdsDeliversTheSameContentAsStateOfTheWorld() throws Exception {
        try (AdsTestClient client = cp.clientWithToken("shop/a")) {
            var sotw = client.sotw();
            Map<String, Any> sotwResources = new TreeMap<>();
            for (String type : List.of(LDS, CDS)) {
                DiscoveryResponse r = sotw.send(request("shop/a", type, "", "")).next();
                for (Any any : r.getResourcesList()) {
                    sotwResources.put(type + " " + Resources.getResourceName(any), any);
                }
            }
            var delta = client.delta();
            Map<String, Any> deltaResources = new TreeMap<>();
            for (String type : List.of(LDS, CDS)) {
                DeltaDiscoveryResponse r = delta.send(DeltaDiscoveryRequest.newBuilder()
                        .setNode(AdsTestClient.node("shop/a", "envoy")).setTypeUrl(type).build()).next();
                assertThat(r.getTypeUrl()).isEqualTo(type);
                for (Resource res : r.getResourcesList()) {
                    deltaResources.put(type + " " + res.getName(), res.getResource());
                    assertThat(res.getVersion()).isNotEmpty();
                }
                delta.send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(type).setResponseNonce(r.getNonce()).build());
            }
            assertThat(deltaResources).isEqualTo(sotwResources).hasSize(2);

            // A change arrives over delta as just the changed resource.
            cp.write("mesh.yaml", MESH + "listener shop/a extra 15001\n");
            DeltaDiscoveryResponse change = delta.next();
            assertThat(change.getTypeUrl()).isEqualTo(LDS);
            assertThat(change.getResourcesList()).extracting(Resource::getName).containsExactly("extra");
        }
    }

    /**
     * A delta stream that reconnects announcing what it holds ({@code initial_resource_versions}) is sent only what
     * changed while it was away and told what is gone; a type it holds entirely is not answered, yet counts as ACKed.
     */
    @Test
    void aReconnectingDeltaStreamIsSentOnlyWhatItDoesNotHold() throws Exception {
        try (AdsTestClient client = cp.clientWithToken("shop/a")) {
            var first = client.delta();
            Map<String, Map<String, String>> held = new TreeMap<>();
            for (String type : List.of(LDS, CDS)) {
                DeltaDiscoveryResponse r = first.send(DeltaDiscoveryRequest.newBuilder()
                        .setNode(AdsTestClient.node("shop/a", "envoy")).setTypeUrl(type).build()).next(type);
                held.put(type, r.getResourcesList().stream().collect(Collectors.toMap(Resource::getName, Resource::getVersion)));
                first.send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(type).setResponseNonce(r.getNonce()).build());
            }
            assertThat(held.get(LDS)).containsOnlyKeys("inbound");
            assertThat(held.get(CDS)).containsOnlyKeys("outbound|8443||b.shop");
            await().until(() -> proxy("shop/a").inSync());
            first.close();
            await().until(() -> cp.core.status().proxies().stream().noneMatch(p -> p.nodeId().equals("shop/a")));

            // While it is away its inbound listener is replaced by another; its cluster stays.
            cp.write("mesh.yaml", MESH.replace("listener shop/a inbound 15006", "listener shop/a extra 15001"));
            var second = client.delta();
            for (String type : List.of(LDS, CDS)) {
                second.send(DeltaDiscoveryRequest.newBuilder().setNode(AdsTestClient.node("shop/a", "envoy")).setTypeUrl(type)
                        .putAllInitialResourceVersions(held.get(type)).build());
            }
            DeltaDiscoveryResponse lds = second.next();
            assertThat(lds.getTypeUrl()).as("the clusters it holds are not sent again").isEqualTo(LDS);
            assertThat(lds.getResourcesList()).extracting(Resource::getName).containsExactly("extra");
            assertThat(lds.getRemovedResourcesList()).containsExactly("inbound");
            second.send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(LDS).setResponseNonce(lds.getNonce()).build());
            await().until(() -> proxy("shop/a").inSync());
            assertThat(proxy("shop/a").ackedVersions()).containsKeys(LDS, CDS);

            // The next change reaches it as just that change, with no cluster answer queued before it.
            cp.write("mesh.yaml", MESH.replace("listener shop/a inbound 15006", "listener shop/a extra 15002"));
            DeltaDiscoveryResponse change = second.next();
            assertThat(change.getTypeUrl()).isEqualTo(LDS);
            assertThat(change.getResourcesList()).extracting(Resource::getName).containsExactly("extra");
            assertThat(change.getRemovedResourcesList()).isEmpty();
        }
    }

    @Test
    void nackIsRecordedAndTheRejectedVersionIsNeverResent() throws Exception {
        try (AdsTestClient client = cp.clientWithToken("shop/a")) {
            var stream = client.sotw();
            DiscoveryResponse lds = stream.send(request("shop/a", LDS, "", "")).next();
            stream.send(DiscoveryRequest.newBuilder(request("shop/a", LDS, "", lds.getNonce()))
                    .setErrorDetail(Status.newBuilder().setCode(3).setMessage("listener inbound: bad filter")).build());
            await().until(() -> proxy("shop/a").lastNack() != null);
            StatusReport.Nack nack = proxy("shop/a").lastNack();
            assertThat(nack.error()).isEqualTo("listener inbound: bad filter");
            assertThat(nack.version()).isEqualTo(lds.getVersionInfo());
            // NACK again (a client retrying): still nothing is resent.
            stream.send(DiscoveryRequest.newBuilder(request("shop/a", LDS, "", lds.getNonce()))
                    .setErrorDetail(Status.newBuilder().setCode(3).setMessage("listener inbound: bad filter")).build());

            cp.write("mesh.yaml", MESH + "listener shop/a fixed 15002\n");
            DiscoveryResponse next = stream.next();
            assertThat(next.getVersionInfo()).isNotEqualTo(lds.getVersionInfo());
            assertThat(listenerNames(next)).contains("fixed");
            // Both NACKs counted (the second may still be in flight when the new version goes out).
            await().untilAsserted(() -> assertThat(cp.registry.counter("septa.xds.nacks", "type", "Listener").count()).isEqualTo(2.0));
        }
    }

    @Test
    void deltaNackIsNotAnsweredWithTheSameResources() throws Exception {
        try (AdsTestClient client = cp.clientWithToken("shop/a")) {
            var delta = client.delta();
            DeltaDiscoveryResponse r = delta.send(DeltaDiscoveryRequest.newBuilder()
                    .setNode(AdsTestClient.node("shop/a", "envoy")).setTypeUrl(LDS).build()).next();
            delta.send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(LDS).setResponseNonce(r.getNonce())
                    .setErrorDetail(Status.newBuilder().setCode(3).setMessage("nope")).build());
            await().until(() -> proxy("shop/a").lastNack() != null);
            cp.write("mesh.yaml", MESH + "listener shop/a fixed 15002\n");
            DeltaDiscoveryResponse next = delta.next();
            assertThat(next.getSystemVersionInfo()).isNotEqualTo(r.getSystemVersionInfo());
            assertThat(next.getResourcesList()).extracting(Resource::getName).contains("fixed");
        }
    }

    @Test
    void badInputIsReportedWithItsLocationAndTheLastGoodConfigurationStays() throws Exception {
        try (AdsTestClient client = cp.clientWithToken("shop/a")) {
            var stream = client.sotw();
            DiscoveryResponse lds = stream.send(request("shop/a", LDS, "", "")).next();
            stream.send(ack("shop/a", lds));
            String good = cp.core.meshState().status().appliedInput();

            cp.write("broken.yaml", "listener shop/a never 1\nerror\n");
            StatusReport.Compile compile = cp.core.status().compile();
            assertThat(compile.ok()).isFalse();
            assertThat(compile.errors()).containsExactly(cp.intents.resolve("broken.yaml") + ":2:1: error: this line is an error");
            assertThat(compile.appliedInput()).isEqualTo(good);
            assertThat(cp.registry.counter("septa.compile.errors").count()).isEqualTo(1.0);
            assertThat(proxy("shop/a").ackedVersions()).containsEntry(LDS, lds.getVersionInfo());

            cp.write("broken.yaml", "listener shop/a recovered 2\n");
            assertThat(cp.core.status().compile().ok()).isTrue();
            DiscoveryResponse next = stream.next(); // the first thing a sees after the broken edit is the fix
            assertThat(listenerNames(next)).containsExactlyInAnyOrder("inbound", "recovered");
        }
    }

    @Test
    void aNodeWithSeveralStreamsIsInSyncOnlyWhenEachStreamAcked() throws Exception {
        // grpc-java opens one ADS stream per xds:/// target, all with the same node id.
        try (AdsTestClient client = cp.clientWithToken("shop/a")) {
            var one = client.sotw();
            var two = client.sotw();
            DiscoveryResponse r1 = one.send(request("shop/a", LDS, "", "", "inbound")).next();
            DiscoveryResponse r2 = two.send(request("shop/a", CDS, "", "")).next();
            one.send(ack("shop/a", r1, "inbound"));
            await().until(() -> proxy("shop/a").ackedVersions().containsKey(LDS));
            assertThat(proxy("shop/a").streams()).isEqualTo(2);
            assertThat(proxy("shop/a").inSync()).isFalse();
            two.send(ack("shop/a", r2));
            await().until(() -> proxy("shop/a").inSync());
        }
    }

    @Test
    void namesMissingFromTheSnapshotDoNotStarveTheOthers() throws Exception {
        try (AdsTestClient client = cp.clientWithToken("shop/a")) {
            DiscoveryResponse lds = client.sotw().send(request("shop/a", LDS, "", "", "inbound", "payments.shop:8443")).next();
            assertThat(listenerNames(lds)).containsExactly("inbound");
        }
    }

    @Test
    void proxiesNeedingTheSameConfigurationShareOneSnapshot() throws Exception {
        try (AdsTestClient c = cp.clientWithToken("shop/c"); AdsTestClient d = cp.clientWithToken("shop/d");
             AdsTestClient b = cp.clientWithToken("shop/b")) {
            DiscoveryResponse rc = c.sotw().send(request("shop/c", LDS, "", "")).next();
            DiscoveryResponse rd = d.sotw().send(request("shop/d", LDS, "", "")).next();
            b.sotw().send(request("shop/b", LDS, "", "")).next();
            assertThat(rc.getVersionInfo()).isEqualTo(rd.getVersionInfo());
            assertThat(proxy("shop/c").snapshot()).isEqualTo(proxy("shop/d").snapshot()).isEqualTo(proxy("shop/b").snapshot());
            // b, c and d share (same listener, no cluster). Only what connected nodes need is assembled: a (which
            // differs) and every grpc twin (a distinct config) are not, as nobody is connected that needs them.
            assertThat(cp.core.status().distinctSnapshots()).isEqualTo(1);
            try (AdsTestClient a = cp.clientWithToken("shop/a")) {
                a.sotw().send(request("shop/a", LDS, "", "")).next();
                assertThat(cp.core.status().distinctSnapshots()).as("a's, assembled when it connected").isEqualTo(2);
            }
        }
    }

    @Test
    void sdsGivesTheWorkloadItsOwnSvidAndTheTrustBundle() throws Exception {
        try (AdsTestClient client = cp.clientWithToken("shop/a")) {
            var sds = client.sds();
            DiscoveryResponse r = sds.send(request("shop/a", SDS, "", "", "default", "ROOTCA")).next();
            Map<String, Secret> secrets = r.getResourcesList().stream().map(XdsServerTest::secret)
                    .collect(Collectors.toMap(Secret::getName, s -> s));
            assertThat(secrets).containsOnlyKeys("default", "ROOTCA");
            String chain = secrets.get("default").getTlsCertificate().getCertificateChain().getInlineString();
            X509Certificate leaf = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(chain.getBytes(StandardCharsets.US_ASCII)));
            assertThat(leaf.getSubjectAlternativeNames()).contains(List.of(6, "spiffe://cluster.local/ns/shop/sa/a"));
            assertThat(secrets.get("default").getTlsCertificate().getPrivateKey().getInlineString()).startsWith("-----BEGIN PRIVATE KEY-----");
            assertThat(secrets.get("ROOTCA").getValidationContext().getTrustedCa().getInlineString()).isEqualTo(cp.ca.trustBundlePem());
            sds.send(ack("shop/a", r, "default", "ROOTCA"));
            await().atMost(Duration.ofSeconds(30)).until(() -> proxy("shop/a").certificateExpiry() != null);
            assertThat(proxy("shop/a").certificateExpiry()).isEqualTo(leaf.getNotAfter().toInstant());
            assertThat(cp.core.status().nearestCertificateExpiry()).isEqualTo(leaf.getNotAfter().toInstant());
        }
    }

    static Secret secret(Any any) {
        try {
            return any.unpack(Secret.class);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    StatusReport.Proxy proxy(String nodeId) {
        return cp.core.status().proxies().stream().filter(p -> p.nodeId().equals(nodeId)).findFirst()
                .orElseThrow(() -> new AssertionError(nodeId + " is not connected"));
    }
}
