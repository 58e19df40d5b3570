package dev.septa.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.septa.controlplane.status.StatusReport;
import dev.septa.demo.LocalDemo;
import dev.septa.e2e.support.RotationTraffic;
import dev.septa.e2e.support.ShopExample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import dev.septa.ca.RootRotation;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Workload certificate rotation under continuous traffic, with real proxyless grpc-java workloads (the shop demo
 * fleet, six JVMs) and certificates that live 10 seconds: every workload's SVID is renewed every few seconds, the
 * agent writes the new files, grpc's file_watcher picks them up (refresh_interval 1 s), servers end connections a
 * few times per lifetime so new handshakes present the new certificates. Not one call that policy allows may fail.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CertificateRotationE2ETest {
    static final Duration TTL = Duration.ofSeconds(10);
    static final Duration TRAFFIC = Duration.ofSeconds(60);
    static final Duration LONGER_TTL = Duration.ofSeconds(60);

    Path work;
    LocalDemo demo;
    final RotationTraffic traffic = new RotationTraffic(() -> demo == null ? Optional.empty() : demo.decisions());
    final AtomicBoolean counting = traffic.counting;
    final AtomicLong allowedOk = traffic.allowedOk;
    final AtomicLong denied = traffic.denied;
    final List<String> failures = traffic.failures;
    final Map<String, Set<String>> serialsSeen = traffic.serialsSeen;
    final Map<String, AtomicLong> certificatesWritten = traffic.certificatesWritten;

    @BeforeAll
    void start() throws Exception {
        work = Files.createTempDirectory("septa-e2e-rotation");
        Path example = ShopExample.copyTo(work.resolve("shop"));
        demo = LocalDemo.start(new LocalDemo.Options(example.resolve("intents"), example.resolve("inventory.yaml"),
                        work.resolve("state"), work.resolve("workloads"), Duration.ofMillis(250), traffic::event,
                        notice -> System.out.println("* " + notice)),
                cp -> cp.minCertificateTtl(Duration.ofSeconds(5)).certificateTtl(TTL).rootRotationReissueWindow(Duration.ofSeconds(3)));
    }

    @AfterAll
    void stop() {
        if (demo != null) {
            demo.close();
        }
    }

    @Test
    @Order(1)
    void continuousTrafficOverManyRotationsLosesNoCall() throws Exception {
        demo.fleet().awaitReady(Duration.ofSeconds(180));
        // Warm-up: every workload has a certificate and the first round of calls went through.
        Thread.sleep(3_000);
        counting.set(true);
        Map<String, Long> writtenAtStart = snapshot(certificatesWritten);
        long start = System.nanoTime();
        while (System.nanoTime() - start < TRAFFIC.toNanos()) {
            Thread.sleep(1_000);
            assertThat(failures).as("failed calls while rotating").isEmpty();
        }
        counting.set(false);

        System.out.printf("rotation e2e: %d allowed calls OK, %d denied by policy, %d failed; certificates written per workload: %s;"
                        + " distinct caller serials seen by servers: %s%n", allowedOk.get(), denied.get(), failures.size(),
                delta(writtenAtStart, snapshot(certificatesWritten)), serialsSeen.entrySet().stream()
                        .map(e -> e.getKey() + "=" + e.getValue().size()).sorted().toList());
        assertThat(failures).as("failed calls while rotating").isEmpty();
        assertThat(allowedOk.get()).as("calls that policy allows went through").isGreaterThan(100);

        // Many rotations: every workload got several new certificates during the run (lifetime 10 s, renewed at 4-6 s).
        Map<String, Long> written = delta(writtenAtStart, snapshot(certificatesWritten));
        assertThat(written).hasSize(6);
        assertThat(written.values()).allSatisfy(n -> assertThat(n).isGreaterThanOrEqualTo(8));
        // The servers saw the callers' certificates change: several serial numbers per calling identity.
        assertThat(serialsSeen).isNotEmpty();
        assertThat(serialsSeen.values()).allSatisfy(serials -> assertThat(serials.size()).isGreaterThanOrEqualTo(4));

        StatusReport status = demo.controlPlane().core().status();
        assertThat(status.certificates()).hasSize(6).noneMatch(r -> r.failures() > 0);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(demo.controlPlane().core().status().certificates()).allSatisfy(r ->
                        assertThat(Duration.between(java.time.Instant.now(), r.notAfter())).isLessThanOrEqualTo(TTL)));
    }

    /**
     * {@code septa ca rotate} under continuous traffic (10 s certificates): zero failed calls that policy allows; at
     * the end every workload's certificate chains to the new root and its ca.pem holds the new root only.
     */
    @Test
    @Order(2)
    void rootRotationUnderTrafficLosesNoCallAndLeavesOnlyTheNewRoot() throws Exception {
        RotationResult r = rotate(false);
        System.out.printf("rotation e2e (root): %d allowed calls OK, %d failed%n", r.ok(), r.failed().size());
        assertThat(r.failed()).as("failed calls during the root rotation").isEmpty();
        assertThat(r.ok()).isGreaterThan(20);
    }

    /**
     * A second rotation with the control plane restarted in the middle: it resumes from the stage kept in the CA store
     * and finishes, with the same end state and no failed call.
     */
    @Test
    @Order(3)
    void aRootRotationInterruptedByARestartResumesAndFinishes() throws Exception {
        // A restart leaves workloads without renewals for a few seconds plus their reconnect backoff: run on 60 s
        // certificates (renewed every 24-36 s) so that none can expire in that window.
        demo.restartControlPlane(cp -> cp.minCertificateTtl(Duration.ofSeconds(5)).certificateTtl(LONGER_TTL)
                .rootRotationReissueWindow(Duration.ofSeconds(10)));
        await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> assertThat(demo.controlPlane().core().status().certificates())
                .hasSize(6).allSatisfy(c -> assertThat(Duration.between(java.time.Instant.now(), c.notAfter()))
                        .isGreaterThan(Duration.ofSeconds(40))));
        RotationResult r = rotate(true);
        System.out.printf("rotation e2e (root, restarted in %s): %d allowed calls OK, %d failed%n",
                r.interruptedIn(), r.ok(), r.failed().size());
        // Workloads keep serving while the control plane is down: not one allowed call may fail across the restart.
        assertThat(r.failed()).as("failed calls across the restart in the middle of the root rotation").isEmpty();
        assertThat(r.ok()).isGreaterThan(20);
    }

    record RotationResult(long ok, List<String> failed, RootRotation.Stage interruptedIn) {}

    private RotationResult rotate(boolean restartMidway) throws Exception {
        demo.fleet().awaitReady(Duration.ofSeconds(180));
        Thread.sleep(3_000);
        Path stateCa = work.resolve("state").resolve("ca");
        List<X509Certificate> before = certificates(Files.readString(stateCa.resolve("trust-bundle.pem")));
        assertThat(before).hasSize(1);
        X509Certificate oldRoot = before.getFirst();
        failures.clear();
        allowedOk.set(0);
        counting.set(true);

        assertThat(demo.controlPlane().core().requestRootRotation()).isInstanceOf(dev.septa.controlplane.ControlPlaneCore.RotationRequest.Accepted.class);
        RootRotation.Stage interrupted = null;
        if (restartMidway) {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                    .until(() -> stage() != RootRotation.Stage.NONE);
            interrupted = stage();
            System.out.println("rotation e2e: restarting the control plane in stage " + interrupted + ": "
                    + demo.controlPlane().core().status().rootRotation());
            demo.restartControlPlane();
        }
        await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
            StatusReport.Rotation r = demo.controlPlane().core().status().rootRotation();
            assertThat(stage()).isEqualTo(RootRotation.Stage.NONE);
            assertThat(r.roots()).hasSize(1);
            assertThat(r.stage()).isEqualTo("idle");
        });
        List<X509Certificate> after = certificates(Files.readString(stateCa.resolve("trust-bundle.pem")));
        assertThat(after).hasSize(1).doesNotContain(oldRoot);
        X509Certificate newRoot = after.getFirst();

        // Every workload: its bundle is the new root alone, its certificate chains to it (not to the old one).
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertThat(workloadCertDirs()).hasSize(6);
            for (Path dir : workloadCertDirs()) {
                List<X509Certificate> bundle = certificates(Files.readString(dir.resolve("ca.pem")));
                assertThat(bundle).as(dir + "/ca.pem").containsExactly(newRoot);
                X509Certificate leaf = certificates(Files.readString(dir.resolve("cert.pem"))).getFirst();
                leaf.verify(newRoot.getPublicKey());
                assertThat(leaf.getIssuerX500Principal()).isEqualTo(newRoot.getSubjectX500Principal());
            }
        });
        Thread.sleep(3_000); // traffic keeps flowing on the one-root bundle
        counting.set(false);
        return new RotationResult(allowedOk.get(), List.copyOf(failures), interrupted);
    }

    private RootRotation.Stage stage() {
        return demo.controlPlane().core().rootRotator().orElseThrow().stage();
    }

    private List<Path> workloadCertDirs() throws java.io.IOException {
        try (var dirs = Files.list(work.resolve("workloads"))) {
            return dirs.map(d -> d.resolve("certs")).filter(Files::isDirectory).sorted().toList();
        }
    }

    static List<X509Certificate> certificates(String pem) throws Exception {
        return RotationTraffic.certificates(pem);
    }

    private static Map<String, Long> snapshot(Map<String, AtomicLong> counts) {
        Map<String, Long> copy = new java.util.TreeMap<>();
        counts.forEach((k, v) -> copy.put(k, v.get()));
        return copy;
    }

    private static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> d = new java.util.TreeMap<>();
        after.forEach((k, v) -> d.put(k, v - before.getOrDefault(k, 0L)));
        return d;
    }
}
