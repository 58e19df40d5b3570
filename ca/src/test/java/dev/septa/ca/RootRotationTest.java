package dev.septa.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CA's stages of a root rotation, on a real file store, each one also reopened as after a restart. */
class RootRotationTest {
    static final SpiffeId WEB = SpiffeId.of("cluster.local", "shop", "web");
    final MutableClock clock = MutableClock.now();

    CertificateAuthority open(Path dir) {
        return CertificateAuthority.open(new FileCaKeyStore(dir), CaConfig.forTrustDomain("cluster.local"), clock,
                IssuanceListener.NONE);
    }

    @Test
    void stagesAddTheNewRootSwitchTheSignerThenDropTheOldRootAndSurviveRestarts(@TempDir Path dir) throws Exception {
        CertificateAuthority ca = open(dir);
        X509Certificate oldRoot = ca.signingCertificate();
        RootRotation rotation = RootRotation.open(ca, new FileCaKeyStore(dir), clock);
        assertThat(rotation.stage()).isEqualTo(RootRotation.Stage.NONE);

        rotation.begin();
        assertThat(rotation.stage()).isEqualTo(RootRotation.Stage.BUNDLE_EXTENDED);
        assertThat(ca.trustBundle().roots()).hasSize(2).startsWith(oldRoot);
        X509Certificate newRoot = ca.trustBundle().roots().get(1);
        assertThat(ca.issueWorkloadCredential(WEB).certificate().root()).as("the old root still signs").isEqualTo(oldRoot);
        assertThatThrownBy(rotation::begin).isInstanceOf(IllegalStateException.class);

        // restart in stage 1
        ca = open(dir);
        rotation = RootRotation.open(ca, new FileCaKeyStore(dir), clock);
        assertThat(rotation.stage()).isEqualTo(RootRotation.Stage.BUNDLE_EXTENDED);
        assertThat(ca.trustBundle().roots()).containsExactly(oldRoot, newRoot);

        rotation.switchSigner();
        IssuedCertificate fromNew = ca.issueWorkloadCredential(WEB).certificate();
        assertThat(fromNew.root()).isEqualTo(newRoot);
        fromNew.leaf().verify(newRoot.getPublicKey());
        assertThat(ca.trustBundle().roots()).containsExactly(oldRoot, newRoot);

        // restart in stage 3
        ca = open(dir);
        rotation = RootRotation.open(ca, new FileCaKeyStore(dir), clock);
        assertThat(rotation.stage()).isEqualTo(RootRotation.Stage.SIGNER_SWITCHED);
        assertThat(ca.signingCertificate()).isEqualTo(newRoot);

        rotation.retireOldRoots();
        assertThat(rotation.stage()).isEqualTo(RootRotation.Stage.NONE);
        assertThat(ca.trustBundle().roots()).containsExactly(newRoot);
        assertThat(dir.resolve("next")).doesNotExist();
        assertThat(Files.readString(dir.resolve("trust-bundle.pem"))).isEqualTo(Pem.certificates(java.util.List.of(newRoot)));

        ca = open(dir);
        rotation = RootRotation.open(ca, new FileCaKeyStore(dir), clock);
        assertThat(rotation.stage()).isEqualTo(RootRotation.Stage.NONE);
        assertThat(ca.trustBundle().roots()).containsExactly(newRoot);
        assertThat(ca.issueWorkloadCredential(WEB).certificate().root()).isEqualTo(newRoot);
    }

    @Test
    void aCrashBetweenSavingTheNextRootAndExtendingTheBundleFinishesStageOneOnRestart(@TempDir Path dir) {
        CertificateAuthority ca = open(dir);
        X509Certificate oldRoot = ca.signingCertificate();
        // what begin() writes first, alone
        CaMaterial fresh = RootCaGenerator.generate(ca.config(), clock);
        new FileCaKeyStore(dir.resolve("next")).save(new CaMaterial(fresh.signingKey(), fresh.signingCertificate(),
                java.util.List.of(), ca.trustBundle().withRoot(fresh.signingCertificate())));

        ca = open(dir);
        RootRotation rotation = RootRotation.open(ca, new FileCaKeyStore(dir), clock);
        assertThat(rotation.stage()).isEqualTo(RootRotation.Stage.BUNDLE_EXTENDED);
        assertThat(ca.trustBundle().roots()).containsExactly(oldRoot, fresh.signingCertificate());
        assertThat(open(dir).trustBundle().roots()).hasSize(2);
    }

    @Test
    void dueWhenLessThanTheShareOfTheLifetimeIsLeft(@TempDir Path dir) {
        CertificateAuthority ca = open(dir);
        X509Certificate root = ca.signingCertificate();
        var notAfter = root.getNotAfter().toInstant();
        assertThat(RootRotation.due(root, notAfter.minus(Duration.ofDays(100)), 0.2)).isFalse();
        assertThat(RootRotation.due(root, notAfter.minus(Duration.ofDays(70)), 0.2)).isTrue();
        assertThat(RootRotation.due(root, clock.instant(), 0.2)).isFalse();
    }
}
