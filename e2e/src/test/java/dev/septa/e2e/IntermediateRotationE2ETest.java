package dev.septa.e2e;

import dev.septa.controlplane.support.SeptaRun;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.septa.ca.RootRotation;
import dev.septa.controlplane.ControlPlaneCore;
import dev.septa.controlplane.status.StatusReport;
import dev.septa.demo.LocalDemo;
import dev.septa.e2e.support.OperatorCa;
import dev.septa.e2e.support.RotationTraffic;
import dev.septa.e2e.support.ShopExample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Septa under an operator's own PKI (root and intermediate made with openssl, imported with {@code septa ca init
 * --intermediate-cert}), with the six real grpc-xds workloads of the shop demo under continuous traffic: the
 * intermediate is replaced by a successor under the same root, then by a new root and intermediate, each with
 * {@code septa ca rotate --intermediate-cert ...}. Not one call that policy allows may fail, and at the end every
 * workload's certificate chains through the successor (openssl verifies it against the workload's own ca.pem).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class IntermediateRotationE2ETest {
    static final Duration TTL = Duration.ofSeconds(20);

    Path work;
    Path caDir;
    OperatorCa ops;
    LocalDemo demo;
    final RotationTraffic traffic = new RotationTraffic(() -> demo == null ? Optional.empty() : demo.decisions());


    @BeforeAll
    void start() throws Exception {
        work = Files.createTempDirectory("septa-e2e-intermediate");
        Path example = ShopExample.copyTo(work.resolve("shop"));
        ops = OperatorCa.create(work.resolve("pki"), "Ops");
        caDir = work.resolve("state").resolve("ca");
        SeptaRun init = SeptaRun.of("ca", "init", "--dir", caDir.toString(), "--trust-domain", "cluster.local",
                "--intermediate-cert", ops.intermediate().toString(), "--intermediate-key", ops.intermediateKey().toString(),
                "--root-cert", ops.root().toString());
        assertThat(init.exit()).as(init.err()).isZero();
        demo = LocalDemo.start(new LocalDemo.Options(example.resolve("intents"), example.resolve("inventory.yaml"),
                        work.resolve("state"), work.resolve("workloads"), Duration.ofMillis(250), traffic::event,
                        notice -> System.out.println("* " + notice)),
                cp -> cp.minCertificateTtl(Duration.ofSeconds(5)).certificateTtl(TTL).rootRotationReissueWindow(Duration.ofSeconds(3)));
        demo.fleet().awaitReady(Duration.ofSeconds(180));
    }

    @AfterAll
    void stop() {
        if (demo != null) {
            demo.close();
        }
    }

    @Test
    @Order(1)
    void workloadsRunOnTheOperatorsIntermediateAndAPlainRotateIsRefusedWithTheCommandToRun() throws Exception {
        assertWorkloadsChainThrough(ops, List.of(certificate(ops.root())));

        assertThat(demo.controlPlane().core().requestRootRotation())
                .isInstanceOfSatisfying(ControlPlaneCore.RotationRequest.NeedsOperator.class, r -> assertThat(r.message())
                        .contains("operator-supplied intermediate").contains("septa ca rotate --dir " + caDir));
        SeptaRun refused = SeptaRun.of("ca", "rotate", "--server", "http://127.0.0.1:" + demo.httpPort());
        assertThat(refused.exit()).isEqualTo(2);
        assertThat(refused.err()).contains("cannot renew itself").contains("--intermediate-cert");
        StatusReport.Rotation status = demo.controlPlane().core().status().rootRotation();
        assertThat(status.stage()).isEqualTo("idle");
        assertThat(status.signer()).startsWith("CN=Ops Intermediate,O=Ops");
    }

    @Test
    @Order(2)
    void aNewIntermediateUnderTheSameRootTakesOverWithoutAFailedCall() throws Exception {
        OperatorCa next = ops.renewIntermediate("ops-int-2");
        rotateTo(next, false);
        assertWorkloadsChainThrough(next, List.of(certificate(ops.root())));
    }

    @Test
    @Order(3)
    void aNewRootAndIntermediateTakeOverAndTheOldRootLeavesEveryBundle() throws Exception {
        OperatorCa next = OperatorCa.create(work.resolve("pki"), "Ops3");
        rotateTo(next, true);
        assertWorkloadsChainThrough(next, List.of(certificate(next.root())));
        for (Path dir : workloadCertDirs()) {
            // The old root no longer verifies the workload's certificate.
            String verdict = opensslVerifyFails(ops.root(), dir);
            assertThat(verdict).contains("unable to get local issuer certificate");
        }
    }

    private void rotateTo(OperatorCa successor, boolean newRoot) throws Exception {
        Thread.sleep(2_000);
        traffic.start();
        List<String> args = new java.util.ArrayList<>(List.of("ca", "rotate", "--dir", caDir.toString(),
                "--intermediate-cert", successor.intermediate().toString(), "--intermediate-key", successor.intermediateKey().toString()));
        if (newRoot) {
            args.addAll(List.of("--root-cert", successor.root().toString()));
        }
        SeptaRun staged = SeptaRun.of(args.toArray(String[]::new));
        assertThat(staged.exit()).as(staged.err()).isZero();
        assertThat(staged.out()).contains("staged");
        X509Certificate expectedSigner = certificate(successor.intermediate());
        await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
            assertThat(caDir.resolve(RootRotation.INCOMING_DIR)).as("picked up").doesNotExist();
            assertThat(demo.controlPlane().core().rootRotator().orElseThrow().stage()).isEqualTo(RootRotation.Stage.NONE);
            assertThat(demo.controlPlane().core().status().rootRotation().stage()).isEqualTo("idle");
            assertThat(RotationTraffic.certificates(Files.readString(caDir.resolve("signing-chain.pem"))).getFirst())
                    .isEqualTo(expectedSigner);
        });
        Thread.sleep(2_000); // traffic keeps flowing on the final bundle
        traffic.counting.set(false);
        System.out.printf("intermediate rotation e2e (%s): %d allowed calls OK, %d denied by policy, %d failed%n",
                newRoot ? "new root" : "same root", traffic.allowedOk.get(), traffic.denied.get(), traffic.failures.size());
        assertThat(traffic.failures).as("failed calls during the rotation").isEmpty();
        assertThat(traffic.allowedOk.get()).isGreaterThan(20);
    }

    /** Every workload's files: its ca.pem is exactly {@code bundle}; its chain is leaf + the intermediate; openssl agrees. */
    private void assertWorkloadsChainThrough(OperatorCa ca, List<X509Certificate> bundle) throws Exception {
        X509Certificate intermediate = certificate(ca.intermediate());
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertThat(workloadCertDirs()).hasSize(6);
            for (Path dir : workloadCertDirs()) {
                assertThat(RotationTraffic.certificates(Files.readString(dir.resolve("ca.pem")))).as(dir + "/ca.pem")
                        .containsExactlyElementsOf(bundle);
                List<X509Certificate> chain = RotationTraffic.certificates(Files.readString(dir.resolve("cert.pem")));
                assertThat(chain).as(dir + "/cert.pem").hasSize(2);
                assertThat(chain.get(1)).isEqualTo(intermediate);
                chain.getFirst().verify(intermediate.getPublicKey());
            }
        });
        for (Path dir : workloadCertDirs()) {
            String verified = OperatorCa.openssl(dir, "verify", "-CAfile", "ca.pem", "-untrusted", "cert.pem", "cert.pem");
            assertThat(verified).contains("cert.pem: OK");
        }
    }

    private static String opensslVerifyFails(Path root, Path dir) throws Exception {
        Process p = new ProcessBuilder("openssl", "verify", "-CAfile", root.toString(), "-untrusted", "cert.pem", "cert.pem")
                .directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(output).isNotZero();
        return output;
    }

    private List<Path> workloadCertDirs() throws java.io.IOException {
        try (var dirs = Files.list(work.resolve("workloads"))) {
            return dirs.map(d -> d.resolve("certs")).filter(Files::isDirectory).sorted().toList();
        }
    }

    private static X509Certificate certificate(Path pem) throws Exception {
        return RotationTraffic.certificates(Files.readString(pem)).getFirst();
    }

}
