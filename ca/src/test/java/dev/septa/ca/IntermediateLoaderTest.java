package dev.septa.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An operator's intermediate, made with openssl, checked on load: one test per check. */
class IntermediateLoaderTest {

    static final CaConfig CONFIG = CaConfig.forTrustDomain("cluster.local");

    @TempDir
    Path dir;

    final MutableClock clock = MutableClock.now();

    {
        // openssl stamps notBefore with the second it runs, after this clock was read: a few seconds ahead keeps
        // every freshly made operator certificate already valid, whatever second boundary falls in between.
        clock.advance(Duration.ofSeconds(5));
    }

    @Test
    void loadsAValidIntermediateAndIssuesUnderIt() {
        OperatorPki ops = OperatorPki.create(dir, "v3_int", 10);

        CaMaterial material = IntermediateLoader.load(ops.intermediateCert, ops.intermediateKey, null, ops.rootCert, CONFIG, clock);
        CertificateAuthority ca = CertificateAuthority.fromMaterial(material, CONFIG, clock, IssuanceListener.NONE);

        assertThat(material.signerIsRoot()).isFalse();
        assertThat(ca.signingCertificate().getSubjectX500Principal().getName()).isEqualTo("CN=Ops Intermediate,O=Ops");
        IssuedCertificate issued = ca.issue(TestKeys.pair("leaf-p256.pem").getPublic(), WorkloadIssuanceTest.PAYMENTS, Duration.ofHours(1));
        assertThat(issued.chain()).extracting(c -> c.getSubjectX500Principal().getName())
                .containsExactly("O=Septa", "CN=Ops Intermediate,O=Ops");
        assertThat(issued.root().getSubjectX500Principal().getName()).isEqualTo("CN=Ops Root,O=Ops");
    }

    @Test
    void anImportedIntermediateSurvivesAFileStoreRoundTrip() {
        OperatorPki ops = OperatorPki.create(dir, "v3_int", 10);
        CaMaterial material = IntermediateLoader.load(ops.intermediateCert, ops.intermediateKey, null, ops.rootCert, CONFIG, clock);
        FileCaKeyStore store = new FileCaKeyStore(dir.resolve("store"));
        store.save(material);

        CertificateAuthority reopened = CertificateAuthority.open(store, CONFIG, clock, IssuanceListener.NONE);

        assertThat(reopened.signingCertificate()).isEqualTo(material.signingCertificate());
        assertThat(reopened.trustBundle().roots()).containsExactlyElementsOf(material.trustBundle().roots());
        assertThat(reopened.issue(TestKeys.pair("leaf-p256.pem").getPublic(), WorkloadIssuanceTest.PAYMENTS, Duration.ofHours(1))
                .chain()).hasSize(2);
    }

    @Test
    void keyDoesNotMatch() {
        OperatorPki ops = OperatorPki.create(dir, "v3_int", 10);
        assertThatThrownBy(() -> IntermediateLoader.load(ops.intermediateCert, TestKeys.path("leaf-p256.pem"), null,
                ops.rootCert, CONFIG, clock))
                .isInstanceOf(InvalidSigningCaException.class)
                .hasMessageContaining("the private key in " + TestKeys.path("leaf-p256.pem") + " does not match the certificate in "
                        + ops.intermediateCert);
    }

    @Test
    void notACa() {
        OperatorPki ops = OperatorPki.create(dir, "v3_notca", 10);
        assertThatThrownBy(() -> IntermediateLoader.load(ops.intermediateCert, ops.intermediateKey, null, ops.rootCert, CONFIG, clock))
                .isInstanceOf(InvalidSigningCaException.class)
                .hasMessageContaining(ops.intermediateCert + " (CN=Ops Intermediate,O=Ops) is not a CA: basicConstraints CA:true is missing");
    }

    @Test
    void doesNotChainToTheGivenRoot() {
        OperatorPki ops = OperatorPki.create(dir, "v3_int", 10);
        Path otherRoot = Openssl.write(dir, "other-root.pem",
                RootCaGenerator.generate(CONFIG, clock).trustBundle().toPem());
        assertThatThrownBy(() -> IntermediateLoader.load(ops.intermediateCert, ops.intermediateKey, null, otherRoot, CONFIG, clock))
                .isInstanceOf(InvalidSigningCaException.class)
                .hasMessageContaining("does not chain to the root in " + otherRoot);
    }

    @Test
    void expired() {
        OperatorPki ops = OperatorPki.create(dir, "v3_int", 10);
        clock.advance(Duration.ofDays(11));
        assertThatThrownBy(() -> IntermediateLoader.load(ops.intermediateCert, ops.intermediateKey, null, ops.rootCert, CONFIG, clock))
                .isInstanceOf(InvalidSigningCaException.class)
                .hasMessageContaining(ops.intermediateCert + " (CN=Ops Intermediate,O=Ops) expired at");
    }

    @Test
    void notYetValid() {
        OperatorPki ops = OperatorPki.create(dir, "v3_int", 10);
        clock.advance(Duration.ofDays(-1));
        assertThatThrownBy(() -> IntermediateLoader.load(ops.intermediateCert, ops.intermediateKey, null, ops.rootCert, CONFIG, clock))
                .isInstanceOf(InvalidSigningCaException.class)
                .hasMessageContaining("is not valid before").hasMessageContaining("check the clock");
    }

    @Test
    void tooLittleLifetimeLeftForTheWorkloadTtl() {
        OperatorPki ops = OperatorPki.create(dir, "v3_int", 1);
        clock.advance(Duration.ofHours(23).plusMinutes(30));
        assertThatThrownBy(() -> IntermediateLoader.load(ops.intermediateCert, ops.intermediateKey, null, ops.rootCert, CONFIG, clock))
                .isInstanceOf(InvalidSigningCaException.class)
                .hasMessageContaining("less than the workload certificate TTL 1h; renew it or lower the TTL");
        // The same intermediate is fine for 15-minute certificates.
        CaConfig shortTtl = CONFIG.withDefaultTtl(Duration.ofMinutes(15));
        assertThat(IntermediateLoader.load(ops.intermediateCert, ops.intermediateKey, null, ops.rootCert, shortTtl, clock))
                .isNotNull();
    }

    @Test
    void theRootItselfIsNotAnIntermediate() {
        OperatorPki ops = OperatorPki.create(dir, "v3_int", 10);
        assertThatThrownBy(() -> IntermediateLoader.load(ops.rootCert, ops.rootKey, null, ops.rootCert, CONFIG, clock))
                .isInstanceOf(InvalidSigningCaException.class)
                .hasMessageContaining("is the root itself");
    }

    @Test
    void missingFile() {
        OperatorPki ops = OperatorPki.create(dir, "v3_int", 10);
        Path missing = dir.resolve("nope.pem");
        assertThatThrownBy(() -> IntermediateLoader.load(ops.intermediateCert, ops.intermediateKey, null, missing, CONFIG, clock))
                .isInstanceOf(InvalidSigningCaException.class)
                .hasMessageContaining(missing + ": no such file");
    }
}
