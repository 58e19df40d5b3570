package dev.septa.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.septa.controlplane.status.StatusReport;
import dev.septa.demo.DemoFleet;
import dev.septa.demo.ExpectedDecisions;
import dev.septa.demo.StateDirectoryAccess;
import dev.septa.e2e.support.ControlPlaneProcess;
import dev.septa.e2e.support.RotationTraffic;
import dev.septa.e2e.support.ShopExample;
import dev.septa.policy.compile.CompiledMesh;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Chaos (issue 16): {@code septa serve} in its own process, killed with SIGKILL at random instants 20 times, while
 * the shop demo's six grpc-java xDS workloads (their own JVMs, agents in-process) call each other every 250 ms on
 * 30-second certificates. The kills cycle through five moments: amid the constant certificate issuance of six workloads
 * renewing every 11-17 s; during a publish (an intent file just written); inside a CA store save (a root rotation
 * requested, killed at a random step of its first save, made long enough by the store's failpoint); in rotation
 * stage 1-2; in rotation stage 3. After each restart: the CA store opens with at
 * least the roots committed before the kill and a signer from that save (nothing lost, nothing half-written), every
 * workload reconnects and converges (connected, a fresh certificate, its ca.pem equal to the control plane's
 * bundle), none is locked out, and then not one call that policy allows fails.
 */
class ControlPlaneChaosE2ETest {
    static final int KILLS = 20;
    static final Duration CONVERGE = Duration.ofSeconds(120);
    static final Duration COUNTED_TRAFFIC = Duration.ofSeconds(2);
    /**
     * Short enough that some workload renews every few seconds (a kill often falls during an issuance), long enough
     * that a renewal reaches the disk before the old certificate expires on a loaded machine: with 10 s certificates at
     * load average 30-60 the issuance-to-disk lag was measured at 7-18 s (docs/reliability.md).
     */
    static final String CERTIFICATE_TTL = "30s";
    /**
     * The CA store's crash-testing failpoint ({@code FileCaKeyStore.Steps}): a pause after each file system step of a
     * save, so that a kill can land inside one. A save is {@code 2 x parts + 2} steps (each part written, the commit
     * marker, each part renamed, the marker removed); the kill falls within the first SAVE_STEPS of them.
     */
    static final long CA_SAVE_STEP_MILLIS = 150;
    static final int SAVE_STEPS = 2 * dev.septa.ca.StoredCa.PARTS.size();

    /** Kept after the run (as the other e2e tests' are): the control plane's log and each workload's are in it. */
    final Path work = createTempDirectory();
    final AtomicReference<ExpectedDecisions> decisions = new AtomicReference<>();
    final RotationTraffic traffic = new RotationTraffic(() -> Optional.ofNullable(decisions.get()));

    @Test
    void killedTwentyTimesAtRandomInstantsLosesNothingAndEveryWorkloadComesBack() throws Exception {
        Path example = ShopExample.copyTo(work.resolve("shop"));
        Path state = work.resolve("state");
        int xdsPort = freePort();
        int httpPort = freePort();
        CompiledMesh compiled = ShopExample.compile(example);
        decisions.set(new ExpectedDecisions(compiled));
        var cp = new ControlPlaneProcess(List.of("-Dsepta.failpoint.caSaveStepMillis=" + CA_SAVE_STEP_MILLIS), List.of("--intents", example.resolve("intents").toString(),
                "--inventory", example.resolve("inventory.yaml").toString(), "--state-dir", state.toString(),
                "--xds-port", String.valueOf(xdsPort), "--http-port", String.valueOf(httpPort),
                "--min-certificate-ttl", "5s", "--certificate-ttl", CERTIFICATE_TTL), httpPort, work.resolve("septa-serve.log"));
        long seed = System.nanoTime();
        Random random = new Random(seed);
        System.out.println("chaos: seed " + seed + ", control plane log " + work.resolve("septa-serve.log"));
        Map<String, Integer> killedDuring = new TreeMap<>();
        long calls = 0;
        int kills = 0;
        try (cp; var fleet = new DemoFleet(work.resolve("workloads"), new StateDirectoryAccess("127.0.0.1", xdsPort, state), Duration.ofMillis(250), traffic::event)) {
            cp.start().awaitHealthy(Duration.ofSeconds(120));
            fleet.start(compiled.mesh());
            fleet.awaitReady(Duration.ofSeconds(180));
            fleet.replan(compiled.mesh());
            Set<String> workloads = new HashSet<>(fleet.processes().keySet());
            awaitConverged(cp, state, workloads, fleet);

            for (int k = 1; k <= KILLS; k++) {
                Set<String> leftOver = saveFiles(state.resolve("ca"));
                String during;
                long delay;
                switch (k % 5) {
                    case 1 -> {
                        during = "issuance";
                        delay = random.nextInt(3_000); // six workloads renew every 11-17 s
                    }
                    case 2 -> {
                        Files.writeString(example.resolve("intents").resolve("chaos.yaml"), extraIntent(k));
                        decisions.set(new ExpectedDecisions(ShopExample.compile(example)));
                        during = "publish";
                        delay = random.nextInt(600); // debounce 100 ms, then compile and push
                    }
                    case 3 -> {
                        // A rotation's stage changes each save the CA store; the failpoint makes every step of a
                        // save last CA_SAVE_STEP_MILLIS, and the kill falls at a random step of the first save seen:
                        // among its pending files (discarded on opening) or after its commit (applied on opening).
                        // Files an earlier kill left (a commit is applied only by the next save of that directory)
                        // are not this save's.
                        leftOver = saveFiles(state.resolve("ca"));
                        requestRotationIfIdle(cp, state);
                        awaitSaveUnderWay(state.resolve("ca"), leftOver);
                        during = "CA store save";
                        delay = random.nextInt((int) (SAVE_STEPS * CA_SAVE_STEP_MILLIS));
                    }
                    case 4 -> {
                        awaitStage(cp, state, "1-2");
                        during = "rotation stage 1-2";
                        delay = random.nextInt(2_000);
                    }
                    default -> {
                        awaitStage(cp, state, "3");
                        during = "rotation stage 3";
                        delay = random.nextInt(2_000);
                    }
                }
                Thread.sleep(delay);
                // Not asked during a save: the status waits for the rotation's lock, which a save holds, so asking
                // would move the kill past the save.
                String stage = during.equals("CA store save") ? "(not asked)" : stageOrUnknown(cp);
                long killedAt = System.nanoTime();
                cp.kill();
                kills++;
                String save = saveState(state.resolve("ca"), leftOver);
                killedDuring.merge(during + " (rotation stage: " + stage + "; CA store: " + save + ")", 1, Integer::sum);

                // What the CA store committed before the kill must be what the control plane comes back with.
                List<X509Certificate> committedRoots = certificates(Files.readString(state.resolve("ca/trust-bundle.pem")));
                cp.start().awaitHealthy(Duration.ofSeconds(120));
                long healthyAt = System.nanoTime();
                List<X509Certificate> reopened = certificates(Files.readString(state.resolve("ca/trust-bundle.pem")));
                // The control plane serves the bundle's roots. Not compared in one read: a rotation resumed on opening
                // may save its next stage at any moment (the file is written before the new roots are served), which
                // made a single status-then-file read fail once at kill 18 of a run (served 1, file 2 a moment later).
                int restart = k;
                await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(cp.status().rootRotation().roots())
                        .as("roots served after restart %d", restart)
                        .hasSize(certificates(Files.readString(state.resolve("ca/trust-bundle.pem"))).size()));
                // The same bundle; or stage 1 finished on opening (a kill between its two saves): a superset; or the
                // rotation finished meanwhile: the newest root alone. Never a CA made afresh, never a lost root.
                if (reopened.containsAll(committedRoots)) {
                    assertThat(reopened.size() - committedRoots.size()).as("roots added on reopening").isLessThanOrEqualTo(1);
                } else {
                    assertThat(committedRoots).as("kill %d: the reopened bundle %s vs the committed %s", k, reopened, committedRoots)
                            .containsAll(reopened);
                    assertThat(reopened).hasSize(1);
                }

                awaitConverged(cp, state, workloads, fleet);
                long convergedAt = System.nanoTime();
                traffic.start();
                Thread.sleep(COUNTED_TRAFFIC.toMillis());
                traffic.counting.set(false);
                calls += traffic.allowedOk.get() + traffic.denied.get() + traffic.failures.size();
                assertThat(traffic.failures).as("calls policy allows that failed after restart %d (%s)", k, during).isEmpty();
                assertThat(traffic.allowedOk.get()).as("calls that went through after restart %d", k).isPositive();
                System.out.printf("chaos: kill %d during %s (stage %s; CA store %s) %d ms in; healthy after %d ms, converged after %d ms more;"
                                + " %d calls OK, %d denied by policy%n", k, during, stage, save, delay,
                        (healthyAt - killedAt) / 1_000_000, (convergedAt - healthyAt) / 1_000_000,
                        traffic.allowedOk.get(), traffic.denied.get());
            }
            System.out.printf("chaos: %d SIGKILLs survived, %d calls made after reconnection, 0 failed; killed during %s%n",
                    kills, calls, killedDuring);
        }
    }

    /**
     * Every workload connected, holding a certificate with time left, and its ca.pem equal to the bundle the CA
     * store holds; a workload that never gets there is locked out and fails the test.
     */
    private void awaitConverged(ControlPlaneProcess cp, Path state, Set<String> workloads, DemoFleet fleet) {
        // Exceptions while the control plane restarts are retried; a failed assertion is shown when time runs out.
        await().atMost(CONVERGE).pollInterval(Duration.ofMillis(250)).ignoreExceptionsMatching(e -> !(e instanceof AssertionError))
                .untilAsserted(() -> {
            StatusReport status = cp.status();
            assertThat(status.proxies().stream().map(StatusReport.Proxy::nodeId).toList()).containsAll(workloads);
            assertThat(status.certificates()).as("certificates").allSatisfy(c ->
                    assertThat(c.notAfter()).isAfter(Instant.now().plusSeconds(2)));
            assertThat(status.certificates().stream().map(StatusReport.Renewal::nodeId).toList()).containsAll(workloads);
            String bundle = Files.readString(state.resolve("ca/trust-bundle.pem"));
            for (String id : workloads) {
                Path ca = work.resolve("workloads").resolve(id.replace('/', '_')).resolve("certs/ca.pem");
                assertThat(Files.readString(ca)).as(id + " ca.pem").isEqualTo(bundle);
            }
            assertThat(fleet.processes().values()).allSatisfy(p -> assertThat(p.alive()).isTrue());
        });
    }

    private static void requestRotationIfIdle(ControlPlaneProcess cp, Path state) throws Exception {
        if (stageOrUnknown(cp).equals("idle")) {
            assertThat(cp.requestRotation(state.resolve("http-token"))).isLessThan(300);
        }
    }

    /**
     * Waits until the rotation's status stage starts with {@code prefix} ("1-2", "3"), requesting a rotation whenever
     * none is under way: a rotation resumed after the last restart may already be past that stage, and then the next
     * one is waited for.
     */
    private static void awaitStage(ControlPlaneProcess cp, Path state, String prefix) {
        await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofMillis(20)).until(() -> {
            String stage = stageOrUnknown(cp);
            if (stage.equals("idle")) {
                assertThat(cp.requestRotation(state.resolve("http-token"))).isLessThan(300);
            }
            return stage.startsWith(prefix + " ");
        });
    }

    /** Waits until a save of the CA store (in {@code ca/} or {@code ca/next/}) has written a pending file of its own. */
    private static void awaitSaveUnderWay(Path ca, Set<String> leftOver) {
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(5))
                .until(() -> !saveState(ca, leftOver).equals("no save under way"));
    }

    /**
     * What a save of the CA store had done when the process died, from the files it leaves ({@code FileCaKeyStore})
     * beyond those an earlier kill left: pending {@code .NAME.new} files without the commit marker (to be discarded on
     * opening), or the marker (the save committed, to be applied on opening).
     */
    static String saveState(Path ca, Set<String> leftOver) {
        Set<String> now = saveFiles(ca);
        now.removeAll(leftOver);
        if (now.stream().anyMatch(f -> f.contains("/.save-commit@"))) {
            return "committed, not yet applied";
        }
        return now.isEmpty() ? "no save under way" : "pending files written, not committed";
    }

    /**
     * The CA store's pending files and commit markers, as {@code /PATH@MTIME} relative to {@code ca}: a file a later
     * save writes again under the same name is a different entry.
     */
    static Set<String> saveFiles(Path ca) {
        try (var files = Files.walk(ca, 2)) {
            return files.filter(p -> {
                String n = p.getFileName().toString();
                return n.equals(".save-commit") || (n.startsWith(".") && n.endsWith(".new"));
            }).map(p -> {
                try {
                    return "/" + ca.relativize(p) + "@" + Files.getLastModifiedTime(p);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).collect(java.util.stream.Collectors.toCollection(HashSet::new));
        } catch (IOException | java.io.UncheckedIOException e) {
            return new HashSet<>(); // a file removed while listing: the save moved on
        }
    }

    private static String stageOrUnknown(ControlPlaneProcess cp) {
        try {
            return cp.status().rootRotation().stage();
        } catch (Exception e) {
            return "unknown";
        }
    }

    /** An Allow intent that changes the compiled RBAC (a new policy name) but no verdict. */
    private static String extraIntent(int k) {
        return """
                apiVersion: septa.dev/v1alpha1
                kind: Intent
                metadata: {name: chaos-%d, namespace: shop}
                spec:
                  action: Allow
                  from:
                    - segment: storefront
                  to:
                    segment: catalog
                    ports:
                      - port: 9090
                        protocol: GRPC
                        http:
                          paths: ["/shop.Catalog/*"]
                """.formatted(k);
    }

    private static List<X509Certificate> certificates(String pem) throws Exception {
        return RotationTraffic.certificates(pem);
    }

    private static Path createTempDirectory() {
        try {
            return Files.createTempDirectory("septa-e2e-chaos");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static int freePort() throws IOException {
        try (var socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }
}
