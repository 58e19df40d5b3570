package dev.septa.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.cli.SeptaCli;
import dev.septa.demo.CallPlanner;
import dev.septa.demo.ExpectedDecisions;
import dev.septa.demo.LocalDemo;
import dev.septa.demo.WorkloadEvents;
import dev.septa.e2e.support.ShopExample;
import dev.septa.policy.check.Decision;
import dev.septa.policy.compile.CompiledMesh;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code septa quarantine} on the shop demo with real proxyless grpc-java workloads (one process each, own SVID, own
 * loopback address): quarantining checkout-1 stops its calls and the calls to it (the time is printed; the goal is a second;
 * no proxy's Listener changes, decision 0009), leaves every other
 * call as it was, lets the forensics segment (monitoring/forensics: prometheus-1) still call it; release brings the
 * calls back and the whole matrix back to what it was. The CLI runs as an operator would run it, with
 * the HTTP token.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class QuarantineE2ETest {
    static final String TARGET = "shop/checkout-1";
    static final Duration CONVERGE = Duration.ofSeconds(60);
    Path work;
    LocalDemo demo;

    @BeforeAll
    void start() throws Exception {
        work = Files.createTempDirectory("septa-e2e-quarantine");
        Path example = ShopExample.copyTo(work.resolve("shop"));
        Files.writeString(example.resolve("intents/forensics.yaml"), """
                apiVersion: septa.dev/v1alpha1
                kind: Segment
                metadata: {name: forensics, namespace: monitoring}
                spec: {selector: {matchLabels: {app: prometheus}}}
                """);
        demo = LocalDemo.start(new LocalDemo.Options(example.resolve("intents"), example.resolve("inventory.yaml"),
                work.resolve("state"), work.resolve("workloads"), Duration.ZERO,
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

    record Probe(String from, String target, String path) {
        @Override
        public String toString() {
            return from + " -> " + target + " " + path;
        }

        boolean touches(String workload, String workloadService) {
            return from.equals(workload) || target.startsWith(workloadService);
        }
    }

    List<Probe> probes(CompiledMesh compiled) {
        List<Probe> probes = new ArrayList<>();
        CallPlanner.plan(compiled.mesh()).forEach((from, calls) -> calls.forEach(c -> probes.add(new Probe(from, c.target(), c.path()))));
        return probes;
    }

    static Decision.Verdict verdict(WorkloadEvents.CallResult result) {
        if (result.ok()) {
            return Decision.Verdict.ALLOW;
        }
        if (result.permissionDenied() || dev.septa.demo.CallReporter.notRouted(result)) {
            return Decision.Verdict.DENY;
        }
        return null;
    }

    /** Every probe, called for real: its verdict, and what septa check says on the compiled policy in force. */
    Map<Probe, String> matrix() throws Exception {
        ExpectedDecisions expected = demo.decisions().orElseThrow();
        List<Probe> probes = probes(expected.compiled());
        List<CompletableFuture<WorkloadEvents.CallResult>> results = new ArrayList<>();
        for (Probe p : probes) {
            results.add(demo.fleet().process(p.from()).call(p.target(), p.path()));
        }
        Map<Probe, String> out = new LinkedHashMap<>();
        for (int i = 0; i < probes.size(); i++) {
            Probe p = probes.get(i);
            WorkloadEvents.CallResult r = results.get(i).get(90, TimeUnit.SECONDS);
            Decision d = expected.decide(p.from(), p.target(), p.path(), r.server()).orElseThrow();
            String real = String.valueOf(verdict(r));
            out.put(p, real.equals(d.verdict().name()) ? d.toString() : "MISMATCH real " + r.code() + " " + r.detail() + " vs check " + d);
        }
        return out;
    }

    /** The matrix once every real call agrees with septa check (a change takes a moment to reach every proxy). */
    Map<Probe, String> settledMatrix() throws Exception {
        long deadline = System.nanoTime() + CONVERGE.toNanos();
        Map<Probe, String> m = matrix();
        while (m.values().stream().anyMatch(v -> v.startsWith("MISMATCH")) && System.nanoTime() < deadline) {
            Thread.sleep(300);
            m = matrix();
        }
        assertThat(m.values()).as("real calls vs septa check").noneMatch(v -> v.startsWith("MISMATCH"));
        return m;
    }

    String cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--server", "http://127.0.0.1:" + demo.httpPort(), "--token-file", work.resolve("state/http-token").toString()));
        int code = SeptaCli.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(all.toArray(String[]::new));
        assertThat(code).as("septa %s: %s", String.join(" ", args), err).isZero();
        return out.toString();
    }

    /** One real call: when it was sent and answered (wall clock, ms) and its verdict. */
    record Sample(long sentAt, long doneAt, Decision.Verdict verdict) { }

    /** Calls {@code probe} back to back on its own thread, recording every answer, until stopped. */
    final class Prober implements AutoCloseable {
        final List<Sample> samples = new java.util.concurrent.CopyOnWriteArrayList<>();
        private volatile boolean running = true;
        private final Thread thread;

        Prober(Probe probe) {
            thread = Thread.ofVirtual().start(() -> {
                while (running) {
                    long sent = System.currentTimeMillis();
                    try {
                        WorkloadEvents.CallResult r = demo.fleet().process(probe.from()).call(probe.target(), probe.path()).get(30, TimeUnit.SECONDS);
                        samples.add(new Sample(sent, System.currentTimeMillis(), verdict(r)));
                    } catch (Exception e) {
                        samples.add(new Sample(sent, System.currentTimeMillis(), null));
                    }
                }
            });
        }

        /** Seconds from {@code since} (wall clock, ms) to the answer of the first call sent after it that had {@code wanted}. */
        double secondsUntil(Decision.Verdict wanted, long since) throws InterruptedException {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                for (Sample s : samples) {
                    if (s.doneAt() >= since && s.verdict() == wanted) {
                        return (s.doneAt() - since) / 1000.0;
                    }
                }
                Thread.sleep(20);
            }
            throw new AssertionError("never became " + wanted + ": " + samples.subList(Math.max(0, samples.size() - 5), samples.size()));
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join(Duration.ofSeconds(60));
        }
    }

    /**
     * Per connected proxyless node, the Listener version it ACKed (a content hash of its Listeners, so an unchanged
     * Listener keeps its version and is not even sent again), once every proxy is in sync.
     */
    Map<String, String> ackedListenerVersions() throws InterruptedException {
        var cache = demo.controlPlane().core().cache();
        long deadline = System.nanoTime() + CONVERGE.toNanos();
        while (!cache.allInSync() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(cache.allInSync()).as("every proxy ACKed the configuration in force").isTrue();
        Map<String, String> out = new java.util.TreeMap<>();
        for (var s : cache.status()) {
            out.put(s.nodeId(), s.ackedVersions().get(io.envoyproxy.controlplane.cache.Resources.V3.LISTENER_TYPE_URL));
        }
        return out;
    }

    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    /** When the control plane persisted the latest order: the quarantine file is rewritten (then renamed) for each. */
    long orderedAt() throws java.io.IOException {
        return Files.getLastModifiedTime(work.resolve("state/quarantines.yaml")).toMillis();
    }

    @Test
    void quarantineCutsBothDirectionsWithinASecondAndReleaseRestoresEverything() throws Exception {
        Map<Probe, String> before = settledMatrix();
        Probe inbound = new Probe("shop/storefront-1", "checkout.shop:8443", "/shop.Checkout/PlaceOrder");
        Probe outbound = new Probe(TARGET, "payments.shop:8443", "/shop.Payments/Charge");
        Probe forensics = new Probe("monitoring/prometheus-1", "checkout.shop:8443", CallPlanner.HEALTH);
        assertThat(before.get(inbound)).isEqualTo("ALLOW shop/storefront-may-checkout");
        assertThat(before.get(outbound)).isEqualTo("ALLOW shop/checkout-may-charge");
        assertThat(before.get(forensics)).isEqualTo("ALLOW shop/monitoring-may-probe");

        List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.Map<String, Long> appliedAt = new java.util.concurrent.ConcurrentHashMap<>();
        demo.controlPlane().core().onQuarantineChange(new dev.septa.controlplane.quarantine.QuarantineListener() {
            @Override
            public void quarantined(Event e) {
                events.add("quarantined " + e.workload() + " " + e.reason() + " " + e.allowFrom() + " restored=" + e.restored());
                appliedAt.put("quarantined", System.currentTimeMillis());
            }

            @Override
            public void released(Event e) {
                events.add("released " + e.workload());
                appliedAt.put("released", System.currentTimeMillis());
            }
        });
        cli("quarantine", "--list"); // the CLI's own warm-up (picocli, HTTP client) is not the control plane's latency
        Map<String, String> listenersBefore = ackedListenerVersions();
        assertThat(listenersBefore).hasSizeGreaterThanOrEqualTo(6).doesNotContainValue(null);

        double inDenied;
        double outDenied;
        String said;
        long ordered;
        try (Prober in = new Prober(inbound); Prober out = new Prober(outbound)) {
            said = cli("quarantine", TARGET, "--reason", "IR-7 beaconing", "--allow-from", "monitoring/forensics");
            ordered = orderedAt();
            inDenied = in.secondsUntil(Decision.Verdict.DENY, ordered);
            outDenied = out.secondsUntil(Decision.Verdict.DENY, ordered);
        }
        double applied = (appliedAt.get("quarantined") - ordered) / 1000.0;
        System.out.printf("quarantine: %s; order persisted -> configuration applied %.3f s, -> inbound denied %.3f s, outbound denied %.3f s (load average %s)%n",
                said.strip(), applied, inDenied, outDenied, loadAverage());
        assertThat(said).contains("quarantined shop/checkout-1", "in force after");
        assertThat(events).containsExactly("quarantined shop/checkout-1 IR-7 beaconing monitoring/forensics restored=false");
        // The goal is < 1 s from the order. Printed by phase: order persisted -> configuration applied (the publisher)
        // -> first denied answer (an RDS push to the six workloads, applied by grpc-java to the connections they have,
        // decision 0009). When the policy was in the Listeners, every server drained its connections and the last
        // phase alone took 3-5 s at load ~24 (4.9-6.6 s in all); by RDS it took ~0.4 s at load ~30 (1.0 s in all).
        // Asserted: that last phase under 3 s (the publisher's own time depends on the machine's load, so it is not),
        // and, below, that no proxy's Listener changed, which drain-based enforcement cannot pass.
        assertThat(inDenied).as("calls to it denied after the order").isPositive();
        assertThat(outDenied).as("its calls denied after the order").isPositive();
        assertThat(inDenied - applied).as("configuration applied -> calls to it denied (s)").isLessThan(3.0);
        assertThat(outDenied - applied).as("configuration applied -> its calls denied (s)").isLessThan(3.0);

        Map<Probe, String> during = settledMatrix();
        int cut = 0;
        for (var e : before.entrySet()) {
            Probe p = e.getKey();
            String now = during.get(p);
            if (p.equals(forensics) || (p.from().equals("monitoring/prometheus-1") && p.target().startsWith("checkout.shop"))) {
                assertThat(now).as(p.toString()).isEqualTo("ALLOW quarantine-forensics:monitoring/forensics");
            } else if (p.touches(TARGET, "checkout.shop")) {
                assertThat(now).as(p.toString()).isEqualTo("DENY quarantine:IR-7 beaconing");
                cut += e.getValue().startsWith("ALLOW") ? 1 : 0;
            } else {
                assertThat(now).as("no other edge changes: " + p).isEqualTo(e.getValue());
            }
        }
        assertThat(cut).as("allowed calls the quarantine cut").isGreaterThanOrEqualTo(4);
        assertThat(ackedListenerVersions()).as("a quarantine changes no Listener (policy travels in RDS)").isEqualTo(listenersBefore);
        assertThat(cli("quarantine", "--list")).contains(TARGET, "yes", "IR-7 beaconing", "monitoring/forensics");
        assertThat(cli("status")).contains("quarantines: 1", TARGET);
        assertThat(Files.readString(work.resolve("state/quarantines.yaml"))).contains("workload: checkout-1", "IR-7 beaconing");

        double inAllowed;
        double outAllowed;
        String released;
        try (Prober in = new Prober(inbound); Prober out = new Prober(outbound)) {
            released = cli("quarantine", "--release", TARGET);
            ordered = orderedAt();
            inAllowed = in.secondsUntil(Decision.Verdict.ALLOW, ordered);
            outAllowed = out.secondsUntil(Decision.Verdict.ALLOW, ordered);
        }
        double releasedApplied = (appliedAt.get("released") - ordered) / 1000.0;
        System.out.printf("release: %s; order persisted -> configuration applied %.3f s, -> inbound allowed %.3f s, outbound allowed %.3f s (load average %s)%n",
                released.strip(), releasedApplied, inAllowed, outAllowed, loadAverage());
        assertThat(events).last().isEqualTo("released shop/checkout-1");
        assertThat(inAllowed).isPositive();
        assertThat(outAllowed).isPositive();
        assertThat(inAllowed - releasedApplied).as("configuration applied -> calls to it allowed (s)").isLessThan(3.0);
        assertThat(outAllowed - releasedApplied).as("configuration applied -> its calls allowed (s)").isLessThan(3.0);
        assertThat(settledMatrix()).isEqualTo(before);
        assertThat(ackedListenerVersions()).as("nor does a release").isEqualTo(listenersBefore);
        assertThat(cli("quarantine", "--list")).contains("quarantines: 0");
    }
}
