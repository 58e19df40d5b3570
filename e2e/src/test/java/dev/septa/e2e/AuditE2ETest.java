package dev.septa.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.septa.cli.SeptaCli;
import dev.septa.controlplane.ControlPlaneCore;
import dev.septa.controlplane.audit.AuditLog;
import dev.septa.controlplane.audit.AuditTrail;
import dev.septa.demo.LocalDemo;
import dev.septa.demo.WorkloadEvents;
import dev.septa.e2e.support.ShopExample;
import dev.septa.policy.model.Workload;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The audit trail of the shop demo with real workloads: {@code septa demo}'s control plane (files, compiler, CA,
 * xDS/SDS over TLS) and six proxyless grpc-java workload processes, each its own xDS node with its own SVID. A policy
 * edit that denies checkout's charge is one change record, every workload it affected ACKs the new configuration,
 * every workload's certificate is on record, and {@code septa check --at} and {@code septa audit --workload} answer
 * from the state directory what the workloads really did.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuditE2ETest {
    static final Duration CONVERGE = Duration.ofSeconds(90);
    Path work;
    Path example;
    Path state;
    LocalDemo demo;

    @BeforeAll
    void start() throws Exception {
        work = Files.createTempDirectory("septa-e2e-audit");
        example = ShopExample.copyTo(work.resolve("shop"));
        state = work.resolve("state");
        demo = LocalDemo.start(new LocalDemo.Options(example.resolve("intents"), example.resolve("inventory.yaml"),
                state, work.resolve("workloads"), Duration.ZERO,
                (id, event) -> {
                    if (event.kind().equals("error")) {
                        System.out.println("[" + id + "] " + event.kind() + " " + event.fields());
                    }
                },
                notice -> System.out.println("* " + notice)));
        demo.fleet().awaitReady(Duration.ofSeconds(180));
    }

    @AfterAll
    void stop() {
        if (demo != null) {
            demo.close();
        }
    }

    record Run(int exit, String out, String err) {}

    static Run septa(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cli = SeptaCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    ControlPlaneCore core() {
        return demo.controlPlane().core();
    }

    List<AuditTrail.Entry> trail() throws Exception {
        assertThat(core().audit().awaitWritten(Duration.ofSeconds(30))).isTrue();
        AuditTrail.Result result = AuditTrail.read(state.resolve(AuditLog.DIR));
        assertThat(result.problems()).isEmpty();
        return result.entries();
    }

    static List<AuditTrail.Entry> of(List<AuditTrail.Entry> trail, String kind, String node) {
        return trail.stream().filter(e -> e.kind().equals(kind) && (node == null || node.equals(e.text("node")))).toList();
    }

    /** Every xDS version a node was sent from policy {@code version} it also ACKed, and it was sent at least one. */
    static void ackedEverythingSent(List<AuditTrail.Entry> trail, String node, String version) {
        List<AuditTrail.Entry> sent = of(trail, AuditLog.XDS_SENT, node).stream().filter(e -> version.equals(e.text("config"))).toList();
        assertThat(sent).as("versions of policy %s sent to %s", version, node).isNotEmpty();
        Set<String> acked = of(trail, AuditLog.XDS_ACK, node).stream().filter(e -> version.equals(e.text("config")))
                .map(e -> e.text("type") + " " + e.text("version")).collect(Collectors.toSet());
        assertThat(sent).allSatisfy(s -> assertThat(acked).as("%s ACKed", node).contains(s.text("type") + " " + s.text("version")));
        assertThat(of(trail, AuditLog.XDS_NACK, node)).isEmpty();
    }

    WorkloadEvents.CallResult charge() throws Exception {
        return demo.fleet().process("shop/checkout-1").call("payments.shop:8443", "/shop.Payments/Charge").get(90, TimeUnit.SECONDS);
    }

    static String[] chargeAt(Instant at, Path state) {
        return new String[] {"check", "--at", at.toString(), "--state-dir", state.toString(), "--from", "shop/checkout-1",
                "--to", "shop/payments-1", "--port", "8443", "--method", "POST", "--path", "/shop.Payments/Charge"};
    }

    @Test
    void aPolicyEditIsOneChangeRecordEveryAffectedWorkloadAcksItAndTheTrailAnswersAsOfEachInstant() throws Exception {
        List<String> workloads = demo.decisions().orElseThrow().compiled().mesh().workloads().stream().map(Workload::id).toList();
        assertThat(workloads).hasSize(6);
        String v1 = core().meshState().status().appliedInput();
        await().atMost(CONVERGE).until(() -> {
            List<AuditTrail.Entry> t = trail();
            return core().cache().allInSync() && workloads.stream().allMatch(w -> !of(t, AuditLog.CERT_ISSUED, w).isEmpty());
        });

        // At start: the policy version in force, every workload's certificate, every workload's ACK of that version.
        List<AuditTrail.Entry> trail = trail();
        assertThat(of(trail, AuditLog.POLICY_APPLIED, null)).singleElement().satisfies(e -> {
            assertThat(e.text("version")).isEqualTo(v1);
            assertThat(e.text("affectedCount")).isEqualTo("6");
        });
        for (String w : workloads) {
            Workload workload = demo.decisions().orElseThrow().compiled().mesh().workloads().stream()
                    .filter(x -> x.id().equals(w)).findFirst().orElseThrow();
            String spiffe = demo.decisions().orElseThrow().compiled().mesh().config()
                    .spiffeId(workload.metadata().namespace(), workload.serviceAccount());
            assertThat(of(trail, AuditLog.CERT_ISSUED, w)).allSatisfy(c -> {
                assertThat(c.text("spiffeId")).isEqualTo(spiffe);
                assertThat(c.text("serial")).matches("[0-9a-f]+");
                assertThat(Instant.parse(c.text("notAfter"))).isAfter(Instant.now());
            });
            ackedEverythingSent(trail, w, v1);
        }
        assertThat(Files.readString(state.resolve(AuditLog.DIR).resolve("audit.log"))).doesNotContain("PRIVATE KEY");
        await().atMost(CONVERGE).until(() -> charge().ok());

        // The edit: checkout may no longer charge.
        Instant before = Instant.now();
        Thread.sleep(20);
        Path intents = example.resolve("intents").resolve("intents.yaml");
        String edited = Files.readString(intents).replace("action: Allow\n  mode: Enforce", "action: Deny\n  mode: Enforce");
        assertThat(edited).isNotEqualTo(Files.readString(intents));
        Files.writeString(intents, edited);
        await().atMost(CONVERGE).until(() -> !v1.equals(core().meshState().status().appliedInput()));
        String v2 = core().meshState().status().appliedInput();
        await().atMost(CONVERGE).until(() -> charge().permissionDenied());
        await().atMost(CONVERGE).until(() -> core().cache().allInSync());
        Instant after = Instant.now();

        trail = trail();
        List<AuditTrail.Entry> changes = of(trail, AuditLog.POLICY_APPLIED, null).stream().filter(e -> !e.time().isBefore(before)).toList();
        assertThat(changes).singleElement().satisfies(c -> {
            assertThat(c.text("version")).isEqualTo(v2);
            assertThat(c.text("previous")).isEqualTo(v1);
            var file = c.json().getAsJsonArray("changed").get(0).getAsJsonObject();
            assertThat(file.get("path").getAsString()).isEqualTo(intents.toString());
            assertThat(file.get("sha256").getAsString()).isEqualTo(HexFormat.of().formatHex(
                    MessageDigest.getInstance("SHA-256").digest(edited.getBytes(StandardCharsets.UTF_8))));
        });
        List<String> affected = changes.getFirst().json().getAsJsonArray("affected").asList().stream().map(e -> e.getAsString()).toList();
        assertThat(affected).contains("shop/payments-1");
        for (String w : workloads) {
            if (affected.contains(w)) {
                ackedEverythingSent(trail, w, v2);
            } else {
                assertThat(of(trail, AuditLog.XDS_SENT, w)).noneMatch(e -> v2.equals(e.text("config")));
            }
        }

        // septa check --at: what the real calls did before and after the edit, offline from the state directory.
        Run then = septa(chargeAt(before, state));
        assertThat(then.exit()).as(then.err()).isZero();
        assertThat(then.out()).isEqualTo("ALLOW shop/checkout-may-charge\n");
        Run now = septa(chargeAt(after, state));
        assertThat(now.exit()).as(now.err()).isEqualTo(1);
        assertThat(now.out()).isEqualTo("DENY shop/checkout-may-charge\n");

        // septa audit --workload: payments' own trail, and nothing about the others.
        Run audit = septa("audit", "--state-dir", state.toString(), "--workload", "shop/payments-1", "--json");
        assertThat(audit.exit()).isZero();
        List<AuditTrail.Entry> about = audit.out().lines().map(l -> parse(l)).toList();
        assertThat(about).allMatch(e -> e.concerns("shop/payments-1"));
        assertThat(about).anyMatch(e -> e.kind().equals(AuditLog.CERT_ISSUED));
        assertThat(about).anyMatch(e -> e.kind().equals(AuditLog.POLICY_APPLIED) && v2.equals(e.text("version")));
        assertThat(about).anyMatch(e -> e.kind().equals(AuditLog.XDS_ACK) && v2.equals(e.text("config")));
        assertThat(about).noneMatch(e -> e.text("node") != null && !e.text("node").equals("shop/payments-1"));
        Run text = septa("audit", "--state-dir", state.toString(), "--workload", "shop/payments-1", "--since", before.toString());
        assertThat(text.exit()).isZero();
        assertThat(text.out()).contains("policy.applied  version " + v2).contains("xds.ack");
        assertThat(text.out().lines().filter(l -> l.contains("  xds.") || l.contains("  cert.")))
                .isNotEmpty().allSatisfy(l -> assertThat(l).contains(" shop/payments-1 "));
    }

    static AuditTrail.Entry parse(String line) {
        var json = com.google.gson.JsonParser.parseString(line).getAsJsonObject();
        return new AuditTrail.Entry(Instant.parse(json.get("time").getAsString()), json.get("kind").getAsString(), json);
    }
}
