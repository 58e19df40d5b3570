package dev.septa.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.septa.identity.Pem;
import dev.septa.identity.SpiffeId;
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

    /** Under an operator's intermediate: `septa ca init --intermediate-cert` made the store. */
    CertificateAuthority openOperatorCa(Path dir, OperatorPki ops) {
        CaMaterial material = IntermediateLoader.load(ops.intermediateCert, ops.intermediateKey, null, ops.rootCert,
                CaConfig.forTrustDomain("cluster.local"), clock);
        new FileCaKeyStore(dir).save(material);
        return open(dir);
    }

    CaMaterial successor(OperatorPki ops) {
        return IntermediateLoader.load(ops.intermediateCert, ops.intermediateKey, null, ops.rootCert,
                CaConfig.forTrustDomain("cluster.local"), clock);
    }

    RootRotation reopen(Path dir) {
        return RootRotation.open(open(dir), new FileCaKeyStore(dir), clock);
    }

    @Test
    void anOperatorIntermediateIsReplacedByANewOneUnderTheSameRootAndTheBundleNeverChanges(@TempDir Path tmp) throws Exception {
        clock.advance(Duration.ofSeconds(5)); // openssl's notBefore is the second it runs
        OperatorPki ops = OperatorPki.create(Files.createDirectories(tmp.resolve("pki")), "v3_int", 10);
        Path dir = tmp.resolve("ca");
        CertificateAuthority ca = openOperatorCa(dir, ops);
        X509Certificate oldIntermediate = ca.signingCertificate();
        RootRotation rotation = RootRotation.open(ca, new FileCaKeyStore(dir), clock);
        assertThatThrownBy(rotation::begin).hasMessageContaining("operator-supplied intermediate")
                .hasMessageContaining("septa ca rotate --dir " + dir.toAbsolutePath().normalize() + " --intermediate-cert");

        OperatorPki renewed = ops.renewIntermediate("ops-next");
        RootRotation.stageSuccessor(successor(renewed), dir, ca.config(), clock);
        assertThat(dir.resolve("incoming")).isDirectory();
        assertThat(rotation.beginStaged()).isTrue();
        assertThat(dir.resolve("incoming")).doesNotExist();
        assertThat(rotation.stage()).isEqualTo(RootRotation.Stage.BUNDLE_EXTENDED);
        assertThat(ca.trustBundle().roots()).as("same root: nothing to add").hasSize(1);
        assertThat(ca.signingCertificate()).isEqualTo(oldIntermediate);

        rotation.switchSigner();
        IssuedCertificate issued = ca.issueWorkloadCredential(WEB).certificate();
        assertThat(issued.signer()).isNotEqualTo(oldIntermediate)
                .extracting(c -> c.getSubjectX500Principal()).isEqualTo(oldIntermediate.getSubjectX500Principal());
        assertThat(issued.chain()).hasSize(2);
        issued.leaf().verify(issued.signer().getPublicKey());
        // openssl: the new chain verifies against the unchanged bundle.
        Files.writeString(tmp.resolve("leaf.pem"), issued.leafPem());
        Files.writeString(tmp.resolve("untrusted.pem"), Pem.certificate(issued.signer()));
        Files.writeString(tmp.resolve("bundle.pem"), ca.trustBundle().toPem());
        assertThat(Openssl.ok(tmp, "verify", "-CAfile", "bundle.pem", "-untrusted", "untrusted.pem", "leaf.pem")).contains("OK");

        // A restart now: the bundle alone cannot tell stage 3 from done, the stage file does.
        assertThat(reopen(dir).stage()).isEqualTo(RootRotation.Stage.SIGNER_SWITCHED);
        Files.writeString(dir.resolve("rotation-stage"), "bundle_extended\n"); // as if killed before the stage write
        rotation = reopen(dir);
        assertThat(rotation.stage()).isEqualTo(RootRotation.Stage.SIGNER_SWITCHED);

        rotation.retireOldRoots();
        assertThat(rotation.stage()).isEqualTo(RootRotation.Stage.NONE);
        assertThat(dir.resolve("next")).doesNotExist();
        CertificateAuthority reopened = open(dir);
        assertThat(reopened.signingCertificate()).isEqualTo(issued.signer());
        assertThat(reopened.trustBundle().roots()).containsExactly(ca.trustBundle().roots().getFirst());
    }

    @Test
    void anOperatorIntermediateIsReplacedByANewRootAndIntermediate(@TempDir Path tmp) throws Exception {
        clock.advance(Duration.ofSeconds(5));
        OperatorPki ops = OperatorPki.create(Files.createDirectories(tmp.resolve("pki")), "v3_int", 10);
        OperatorPki next = OperatorPki.createAnother(tmp.resolve("pki"));
        Path dir = tmp.resolve("ca");
        CertificateAuthority ca = openOperatorCa(dir, ops);
        X509Certificate oldRoot = ca.trustBundle().roots().getFirst();
        RootRotation rotation = RootRotation.open(ca, new FileCaKeyStore(dir), clock);

        rotation.begin(successor(next));
        X509Certificate newRoot = ca.trustBundle().roots().get(1);
        assertThat(newRoot.getSubjectX500Principal().getName()).isEqualTo("CN=Ops2 Root,O=Ops2");
        assertThat(reopen(dir).stage()).isEqualTo(RootRotation.Stage.BUNDLE_EXTENDED);

        rotation = reopen(dir);
        rotation.switchSigner();
        ca = open(dir);
        IssuedCertificate issued = ca.issueWorkloadCredential(WEB).certificate();
        assertThat(issued.root()).isEqualTo(newRoot);
        assertThat(ca.trustBundle().roots()).containsExactly(oldRoot, newRoot);
        assertThat(reopen(dir).stage()).isEqualTo(RootRotation.Stage.SIGNER_SWITCHED);

        rotation = reopen(dir);
        rotation.retireOldRoots();
        assertThat(open(dir).trustBundle().roots()).containsExactly(newRoot);
        assertThat(reopen(dir).stage()).isEqualTo(RootRotation.Stage.NONE);
    }

    @Test
    void aStagedSuccessorIsRefusedWithItsReason(@TempDir Path tmp) throws Exception {
        clock.advance(Duration.ofSeconds(5));
        OperatorPki ops = OperatorPki.create(Files.createDirectories(tmp.resolve("pki")), "v3_int", 10);
        Path dir = tmp.resolve("ca");
        CertificateAuthority ca = openOperatorCa(dir, ops);
        assertThatThrownBy(() -> RootRotation.stageSuccessor(successor(ops), dir, ca.config(), clock))
                .isInstanceOf(InvalidSigningCaException.class).hasMessageContaining("is the one signing now");
        assertThatThrownBy(() -> RootRotation.stageSuccessor(successor(ops), tmp.resolve("none"), ca.config(), clock))
                .isInstanceOf(CaStoreException.class).hasMessageContaining("no CA in");
        CaMaterial otherDomain = RootCaGenerator.generate(CaConfig.forTrustDomain("other.example"), clock);
        assertThatThrownBy(() -> RootRotation.stageSuccessor(otherDomain, dir, ca.config(), clock))
                .hasMessageContaining("trust domain 'other.example'");
        assertThat(dir.resolve("incoming")).doesNotExist();

        RootRotation rotation = RootRotation.open(ca, new FileCaKeyStore(dir), clock);
        rotation.begin(successor(ops.renewIntermediate("ops-next")));
        assertThatThrownBy(() -> RootRotation.stageSuccessor(RootCaGenerator.generate(ca.config(), clock), dir, ca.config(), clock))
                .hasMessageContaining("already under way");
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
