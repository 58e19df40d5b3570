package dev.septa.controlplane.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.rpc.Status;
import dev.septa.controlplane.ControlPlaneCore;
import dev.septa.controlplane.ControlPlaneMetrics;
import dev.septa.controlplane.support.AdsTestClient;
import dev.septa.controlplane.support.SeptaRun;
import dev.septa.controlplane.support.ShopFixture;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit trail of a real control plane (the shop example, Septa's compiler and CA, xDS over TLS on loopback) with
 * raw xDS clients standing in for proxies where the test must control what a proxy answers (a NACK). The trail is
 * read back the way an auditor would: through {@code septa audit} and {@code septa check --at}, offline.
 */
class AuditControlPlaneTest {
    static final String LDS = Resources.V3.LISTENER_TYPE_URL;
    static final String RDS = Resources.V3.ROUTE_TYPE_URL;
    static final String SDS = Resources.V3.SECRET_TYPE_URL;
    static final String[] CHARGE = {"--from", "shop/checkout-1", "--to", "shop/payments-1", "--port", "8443",
            "--method", "POST", "--path", "/shop.Payments/Charge"};

    @TempDir Path dir;

    ControlPlaneCore start(java.util.function.UnaryOperator<dev.septa.controlplane.ControlPlaneOptions.Builder> tuning)
            throws Exception {
        return new ControlPlaneCore(tuning.apply(ShopFixture.options(dir)).build(),
                new ControlPlaneMetrics(new SimpleMeterRegistry())).start();
    }

    static List<AuditTrail.Entry> trail(ControlPlaneCore core, Path state) throws Exception {
        assertThat(core.audit().awaitWritten(Duration.ofSeconds(30))).isTrue();
        AuditTrail.Result result = AuditTrail.read(state.resolve(AuditLog.DIR));
        assertThat(result.problems()).isEmpty();
        return result.entries();
    }

    static List<AuditTrail.Entry> of(List<AuditTrail.Entry> trail, String kind, String node) {
        return trail.stream().filter(e -> e.kind().equals(kind) && (node == null || node.equals(e.text("node")))).toList();
    }

    static DiscoveryRequest lds(String node, DiscoveryResponse previous) {
        DiscoveryRequest.Builder r = DiscoveryRequest.newBuilder().setNode(AdsTestClient.node(node, "grpc")).setTypeUrl(LDS);
        if (previous != null) {
            r.setVersionInfo(previous.getVersionInfo()).setResponseNonce(previous.getNonce());
        }
        return r.build();
    }

    /** The inbound routes (RDS) a proxyless node's server listeners name: where its policy is (decision 0009). */
    static DiscoveryRequest rds(String node, DiscoveryResponse listeners, DiscoveryResponse previous) throws Exception {
        DiscoveryRequest.Builder r = DiscoveryRequest.newBuilder().setNode(AdsTestClient.node(node, "grpc"))
                .setTypeUrl(io.envoyproxy.controlplane.cache.Resources.V3.ROUTE_TYPE_URL);
        for (var any : listeners.getResourcesList()) {
            var l = any.unpack(io.envoyproxy.envoy.config.listener.v3.Listener.class);
            for (var chain : l.getFilterChainsList()) {
                for (var f : chain.getFiltersList()) {
                    var hcm = f.getTypedConfig().unpack(
                            io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.class);
                    r.addResourceNames(hcm.getRds().getRouteConfigName());
                }
            }
        }
        assertThat(r.getResourceNamesList()).isNotEmpty();
        if (previous != null) {
            r.setVersionInfo(previous.getVersionInfo()).setResponseNonce(previous.getNonce());
        }
        return r.build();
    }

    @Test
    void aPolicyEditIsOneChangeRecordWithItsVersionEachProxyItAffectedAcksItAndCheckAtAnswersAsOfEachInstant() throws Exception {
        Path state = dir.resolve("state");
        try (ControlPlaneCore core = start(b -> b)) {
            String v1 = core.meshState().status().appliedInput();
            String bundle = core.certificates().trustBundlePem();
            try (var payments = new AdsTestClient(core.xdsPort(), bundle, core.nodeTokens().mint("shop/payments-1"), null);
                 var checkout = new AdsTestClient(core.xdsPort(), bundle, core.nodeTokens().mint("shop/checkout-1"), null)) {
                var p = payments.sotw().send(lds("shop/payments-1", null));
                DiscoveryResponse p1 = p.next(LDS);
                p.send(lds("shop/payments-1", p1)); // ACK
                DiscoveryResponse r1 = p.send(rds("shop/payments-1", p1, null)).next(RDS);
                p.send(rds("shop/payments-1", p1, r1)); // ACK
                var c = checkout.sotw().send(lds("shop/checkout-1", null));
                DiscoveryResponse c1 = c.next(LDS);
                c.send(DiscoveryRequest.newBuilder(lds("shop/checkout-1", null)).setResponseNonce(c1.getNonce())
                        .setErrorDetail(Status.newBuilder().setCode(3).setMessage("audit test: listener rejected")).build());
                await().atMost(Duration.ofSeconds(30)).until(() -> !of(trail(core, state), AuditLog.XDS_NACK, "shop/checkout-1").isEmpty());

                Instant before = Instant.now();
                Thread.sleep(20);
                Path intents = dir.resolve("intents").resolve("intents.yaml");
                String edited = Files.readString(intents).replace("action: Allow\n  mode: Enforce", "action: Deny\n  mode: Enforce");
                assertThat(edited).isNotEqualTo(Files.readString(intents));
                Files.writeString(intents, edited);
                await().atMost(Duration.ofSeconds(30)).until(() -> !v1.equals(core.meshState().status().appliedInput()));
                String v2 = core.meshState().status().appliedInput();
                // The policy is in payments-1's inbound routes (decision 0009): the edit is an RDS push, its Listener stays.
                DiscoveryResponse p2 = p.next(RDS);
                p.send(rds("shop/payments-1", p1, p2));
                await().atMost(Duration.ofSeconds(30)).until(() -> of(trail(core, state), AuditLog.XDS_ACK, "shop/payments-1")
                        .stream().anyMatch(e -> v2.equals(e.text("config"))));
                Instant after = Instant.now();

                List<AuditTrail.Entry> trail = trail(core, state);
                List<AuditTrail.Entry> changes = of(trail, AuditLog.POLICY_APPLIED, null);
                assertThat(changes).hasSize(2);
                assertThat(changes.get(0).text("version")).isEqualTo(v1);
                assertThat(changes.get(0).text("start")).isEqualTo("true");
                AuditTrail.Entry change = changes.get(1);
                assertThat(change.text("version")).isEqualTo(v2);
                assertThat(change.text("previous")).isEqualTo(v1);
                assertThat(change.time()).isBetween(before, after);
                var changed = change.json().getAsJsonArray("changed");
                assertThat(changed).hasSize(1);
                var file = changed.get(0).getAsJsonObject();
                assertThat(file.get("path").getAsString()).isEqualTo(intents.toString());
                assertThat(file.get("change").getAsString()).isEqualTo("modified");
                assertThat(file.get("sha256").getAsString()).isEqualTo(AuditLog.sha256(edited));
                List<String> affected = change.json().getAsJsonArray("affected").asList().stream().map(e -> e.getAsString()).toList();
                assertThat(affected).contains("shop/payments-1");

                // Each connected proxy: what it was sent and ACKed or NACKed, named by the policy version behind it.
                assertThat(of(trail, AuditLog.XDS_SENT, "shop/payments-1")).extracting(e -> e.text("version"), e -> e.text("config"))
                        .contains(org.assertj.core.groups.Tuple.tuple(p1.getVersionInfo(), v1),
                                org.assertj.core.groups.Tuple.tuple(p2.getVersionInfo(), v2));
                assertThat(of(trail, AuditLog.XDS_ACK, "shop/payments-1")).extracting(e -> e.text("type"), e -> e.text("version"), e -> e.text("config"))
                        .containsExactly(org.assertj.core.groups.Tuple.tuple("Listener", p1.getVersionInfo(), v1),
                                org.assertj.core.groups.Tuple.tuple("RouteConfiguration", r1.getVersionInfo(), v1),
                                org.assertj.core.groups.Tuple.tuple("RouteConfiguration", p2.getVersionInfo(), v2));
                assertThat(of(trail, AuditLog.XDS_NACK, "shop/checkout-1")).singleElement().satisfies(n -> {
                    assertThat(n.text("version")).isEqualTo(c1.getVersionInfo());
                    assertThat(n.text("config")).isEqualTo(v1);
                    assertThat(n.text("error")).isEqualTo("audit test: listener rejected");
                });
                // A connected proxy the edit did not affect was sent nothing new.
                if (!affected.contains("shop/checkout-1")) {
                    assertThat(of(trail, AuditLog.XDS_SENT, "shop/checkout-1")).noneMatch(e -> v2.equals(e.text("config")));
                }

                // septa check --at, offline from the state directory: the policy in force before and after the edit.
                SeptaRun then = SeptaRun.of(args("check", "--at", before.toString(), "--state-dir", state.toString()));
                assertThat(then.exit()).as(then.err()).isZero();
                assertThat(then.out()).isEqualTo("ALLOW shop/checkout-may-charge\n");
                assertThat(then.err()).contains("policy version " + v1);
                SeptaRun now = SeptaRun.of(args("check", "--at", after.toString(), "--state-dir", state.toString()));
                assertThat(now.exit()).as(now.err()).isEqualTo(1);
                assertThat(now.out()).isEqualTo("DENY shop/checkout-may-charge\n");
                assertThat(now.err()).contains("policy version " + v2);
                SeptaRun files = SeptaRun.of(args("check", "-f", dir.resolve("intents").toString(), ShopFixture.SHOP.resolve("inventory.yaml").toString()));
                assertThat(files.out()).isEqualTo(now.out());
                SeptaRun tooOld = SeptaRun.of(args("check", "--at", "2000-01-01", "--state-dir", state.toString()));
                assertThat(tooOld.exit()).isEqualTo(2);
                assertThat(tooOld.err()).contains("2000-01-01T00:00:00Z is before the oldest policy version kept (" + v1);
                SeptaRun both = SeptaRun.of(args("check", "--at", after.toString(), "-f", dir.toString()));
                assertThat(both.exit()).isEqualTo(2);
                assertThat(both.err()).contains("give -f PATH... or --at TIME, not both");

                // septa audit --workload: the records about payments-1 and nothing else.
                SeptaRun audit = SeptaRun.of("audit", "--state-dir", state.toString(), "--workload", "shop/payments-1", "--json");
                assertThat(audit.exit()).isZero();
                List<AuditTrail.Entry> about = audit.out().lines().map(l -> AuditTrail.parse(l).orElseThrow()).toList();
                assertThat(about).allMatch(e -> e.concerns("shop/payments-1"));
                assertThat(about).extracting(AuditTrail.Entry::kind).contains(AuditLog.POLICY_APPLIED, AuditLog.XDS_SENT, AuditLog.XDS_ACK);
                assertThat(about).anyMatch(e -> e.kind().equals(AuditLog.POLICY_APPLIED) && v2.equals(e.text("version")));
                assertThat(about).noneMatch(e -> "shop/checkout-1".equals(e.text("node")));
                assertThat(about.size()).isLessThan(trail.size());
                SeptaRun text = SeptaRun.of("audit", "--state-dir", state.toString(), "--since", before.toString());
                assertThat(text.exit()).isZero();
                assertThat(text.out()).contains("policy.applied  version " + v2 + " (was " + v1 + "): modified " + intents)
                        .doesNotContain("version " + v1 + " at start");
            }
        }
    }

    static String[] args(String... first) {
        String[] all = java.util.Arrays.copyOf(first, first.length + CHARGE.length);
        System.arraycopy(CHARGE, 0, all, first.length, CHARGE.length);
        return all;
    }

    @Test
    void everyCertificateIssuedIsRecordedWithItsSerialAndNeverItsKeyAndARefusalToo() throws Exception {
        Path state = dir.resolve("state");
        try (ControlPlaneCore core = start(b -> b)) {
            String bundle = core.certificates().trustBundlePem();
            try (var client = new AdsTestClient(core.xdsPort(), bundle, core.nodeTokens().mint("shop/payments-1"), null)) {
                DiscoveryResponse secrets = client.sds().send(DiscoveryRequest.newBuilder()
                        .setNode(AdsTestClient.node("shop/payments-1", "grpc")).setTypeUrl(SDS)
                        .addResourceNames("default").addResourceNames("ROOTCA").build()).next();
                Secret svid = secrets.getResourcesList().stream().map(r -> unpack(r)).filter(s -> s.getName().equals("default"))
                        .findFirst().orElseThrow();
                X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                        new ByteArrayInputStream(svid.getTlsCertificate().getCertificateChain().getInlineString().getBytes(StandardCharsets.US_ASCII)));
                String key = svid.getTlsCertificate().getPrivateKey().getInlineString();

                List<AuditTrail.Entry> trail = trail(core, state);
                assertThat(of(trail, AuditLog.CERT_ISSUED, "shop/payments-1")).singleElement().satisfies(e -> {
                    assertThat(e.text("serial")).isEqualTo(cert.getSerialNumber().toString(16));
                    assertThat(e.text("spiffeId")).isEqualTo("spiffe://cluster.local/ns/shop/sa/payments");
                    assertThat(Instant.parse(e.text("notAfter"))).isEqualTo(cert.getNotAfter().toInstant());
                });
                String text = Files.readString(state.resolve(AuditLog.DIR).resolve(RotatingFileSink.FILE));
                String keyBody = key.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
                assertThat(text).doesNotContain("PRIVATE").doesNotContain(keyBody.substring(0, 40));
            }
        }
    }

    @Test
    void aCertificateTheCaRefusesIsARefusalRecord() throws Exception {
        Path state = dir.resolve("state");
        // The CA's bound is 24 h (MeshConfig.MAX_CERTIFICATE_TTL): an override past it is refused at every issuance.
        try (ControlPlaneCore core = start(b -> b.certificateTtl(Duration.ofHours(25)))) {
            String bundle = core.certificates().trustBundlePem();
            try (var client = new AdsTestClient(core.xdsPort(), bundle, core.nodeTokens().mint("shop/payments-1"), null)) {
                client.sds().send(DiscoveryRequest.newBuilder().setNode(AdsTestClient.node("shop/payments-1", "grpc"))
                        .setTypeUrl(SDS).addResourceNames("default").addResourceNames("ROOTCA").build());
                await().atMost(Duration.ofSeconds(30)).until(() -> !of(trail(core, state), AuditLog.CERT_REFUSED, "shop/payments-1").isEmpty());
                AuditTrail.Entry refused = of(trail(core, state), AuditLog.CERT_REFUSED, "shop/payments-1").getFirst();
                assertThat(refused.text("spiffeId")).isEqualTo("spiffe://cluster.local/ns/shop/sa/payments");
                assertThat(refused.text("error")).contains("outside the allowed range");
                assertThat(refused.text("attempt")).isEqualTo("1");
                assertThat(refused.text("retryAt")).isNotNull();
                assertThat(of(trail(core, state), AuditLog.CERT_ISSUED, "shop/payments-1")).isEmpty();
            }
        }
    }

    @Test
    void anAuditDirectoryThatCannotBeWrittenIsAStatusErrorTheControlPlaneRunsOnAndTheGapIsRecorded() throws Exception {
        Path state = Files.createDirectories(dir.resolve("state"));
        Files.setPosixFilePermissions(state, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        Path blocker = state.resolve(AuditLog.DIR);
        Files.writeString(blocker, "a file where the audit directory must go");
        try (ControlPlaneCore core = start(b -> b)) {
            String v1 = core.meshState().status().appliedInput();
            await().atMost(Duration.ofSeconds(30)).until(() -> core.status().warnings().stream().anyMatch(w -> w.startsWith("audit log:")));
            String warning = core.status().warnings().stream().filter(w -> w.startsWith("audit log:")).findFirst().orElseThrow();
            assertThat(warning).contains("cannot write " + blocker.resolve(RotatingFileSink.FILE)).contains("records lost since");

            // The control plane carries on: an edit is applied, and the version is still kept for check --at.
            Path intents = dir.resolve("intents").resolve("intents.yaml");
            Files.writeString(intents, Files.readString(intents).replace("action: Allow\n  mode: Enforce", "action: Deny\n  mode: Enforce"));
            await().atMost(Duration.ofSeconds(30)).until(() -> !v1.equals(core.meshState().status().appliedInput()));
            String v2 = core.meshState().status().appliedInput();
            assertThat(core.audit().awaitWritten(Duration.ofSeconds(30))).isTrue();
            assertThat(PolicyVersionStore.in(state).readIndex()).extracting(PolicyVersionStore.Entry::version).containsExactly(v1, v2);

            // Writable again: the next record goes through, after one saying how many were lost and why.
            Files.delete(blocker);
            core.audit().released("shop/payments-1", "test");
            List<AuditTrail.Entry> trail = trail(core, state);
            assertThat(trail).extracting(AuditTrail.Entry::kind).containsExactly(AuditLog.LOST, AuditLog.RELEASE);
            AuditTrail.Entry lost = trail.getFirst();
            assertThat(Integer.parseInt(lost.text("records"))).isGreaterThanOrEqualTo(2); // at least the two policy versions
            assertThat(lost.text("error")).contains("cannot write " + blocker.resolve(RotatingFileSink.FILE));
            assertThat(core.status().warnings()).noneMatch(w -> w.startsWith("audit log:"));
            assertThat(Objects.requireNonNull(core.status().compile()).ok()).isTrue();
        }
    }

    @Test
    void aRootRotationStageIsRecorded() throws Exception {
        Path state = dir.resolve("state");
        try (ControlPlaneCore core = start(b -> b)) {
            assertThat(core.requestRootRotation()).isInstanceOf(ControlPlaneCore.RotationRequest.Accepted.class);
            // No workload is connected, so stage 1-2 waits for the mesh's workloads (up to 60 s): the first stage is on record.
            await().atMost(Duration.ofSeconds(30)).until(() -> of(trail(core, state), AuditLog.CA_ROTATION, null).stream()
                    .anyMatch(e -> e.text("stage").startsWith("1-2")));
            AuditTrail.Entry stage = of(trail(core, state), AuditLog.CA_ROTATION, null).stream()
                    .filter(e -> e.text("stage").startsWith("1-2")).findFirst().orElseThrow();
            assertThat(stage.json().getAsJsonArray("roots")).hasSize(2);
            assertThat(stage.text("signer")).isNotBlank();
            SeptaRun text = SeptaRun.of("audit", "--state-dir", state.toString());
            assertThat(text.out()).contains("ca.rotation     1-2 successor's root in the bundle");
        }
    }

    static Secret unpack(com.google.protobuf.Any any) {
        try {
            return any.unpack(Secret.class);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }
}
