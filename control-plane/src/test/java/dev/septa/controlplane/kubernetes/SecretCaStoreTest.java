package dev.septa.controlplane.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.septa.ca.CaConfig;
import dev.septa.ca.CaStoreException;
import dev.septa.ca.CertificateAuthority;
import dev.septa.ca.IssuanceListener;
import dev.septa.ca.RootRotation;
import dev.septa.identity.SpiffeId;
import dev.septa.ca.StoredCa;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Kubernetes mode keeps the CA in Secrets of its namespace (fabric8's mock API server in CRUD mode): a restarted
 * control plane finds the same root, damage is refused and never replaced, and a whole root rotation runs on
 * Secrets, reopened at every stage as after a restart.
 */
@EnableKubernetesMockClient(crud = true)
class SecretCaStoreTest {
    static final String NS = "septa-system";
    static final CaConfig CONFIG = CaConfig.forTrustDomain("cluster.local");
    static final SpiffeId WEB = SpiffeId.of("cluster.local", "shop", "web");

    KubernetesClient client;

    CertificateAuthority open() {
        return CertificateAuthority.open(new SecretRotationStores(client, NS).current(), CONFIG, Clock.systemUTC(), IssuanceListener.NONE);
    }

    RootRotation rotation() {
        var stores = new SecretRotationStores(client, NS);
        return RootRotation.open(CertificateAuthority.open(stores.current(), CONFIG, Clock.systemUTC(), IssuanceListener.NONE),
                stores, Clock.systemUTC());
    }

    Secret secret(String name) {
        return client.secrets().inNamespace(NS).withName(name).get();
    }

    @Test
    void theFirstStartWritesTheCaToASecretAndARestartFindsTheSameRoot() {
        X509Certificate root = open().signingCertificate();
        Secret stored = secret(SecretRotationStores.CA);
        assertThat(stored.getType()).isEqualTo("Opaque");
        assertThat(stored.getData()).containsOnlyKeys(StoredCa.PARTS);
        assertThat(new String(Base64.getDecoder().decode(stored.getData().get(StoredCa.KEY)), StandardCharsets.US_ASCII))
                .startsWith("-----BEGIN PRIVATE KEY-----");

        CertificateAuthority restarted = open();
        assertThat(restarted.signingCertificate()).isEqualTo(root);
        assertThat(restarted.issueWorkloadCredential(WEB).certificate().root()).isEqualTo(root);
        assertThat(new SecretRotationStores(client, NS).current().toString()).doesNotContain("PRIVATE");
    }

    /** Two replicas starting at once: whoever creates the Secret first, both end up signing with that root. */
    @Test
    void replicasStartingTogetherAgreeOnOneRoot() {
        var a = new SecretRotationStores(client, NS).current();
        var b = new SecretRotationStores(client, NS).current();
        assertThat(a.load()).isEmpty();
        assertThat(b.load()).isEmpty();
        var first = dev.septa.ca.RootCaGenerator.generate(CONFIG, Clock.systemUTC());
        var second = dev.septa.ca.RootCaGenerator.generate(CONFIG, Clock.systemUTC());
        assertThat(a.create(first)).isTrue();
        // b decided to create a CA before a's write was visible: its create loses, and opening reads a's CA back
        assertThat(b.create(second)).isFalse();
        CertificateAuthority openedByB = CertificateAuthority.open(b, CONFIG, Clock.systemUTC(), IssuanceListener.NONE);
        assertThat(openedByB.signingCertificate()).isEqualTo(first.signingCertificate());
        assertThat(secret(SecretRotationStores.CA).getData()).containsOnlyKeys(StoredCa.PARTS);
    }

    @Test
    void aDamagedSecretIsRefusedWithTheReasonAndLeftAsItIs() {
        open();
        Secret full = secret(SecretRotationStores.CA);
        Map<String, String> withoutChain = new java.util.HashMap<>(full.getData());
        withoutChain.remove(StoredCa.CHAIN);
        client.secrets().inNamespace(NS).resource(new SecretBuilder(full).withData(withoutChain).build()).update();
        assertThatThrownBy(this::open).isInstanceOf(CaStoreException.class)
                .hasMessageContaining("Secret septa-system/septa-ca is incomplete: [signing-chain.pem] missing")
                .hasMessageContaining("not replaced automatically");
        assertThat(secret(SecretRotationStores.CA).getData()).doesNotContainKey(StoredCa.CHAIN);

        Map<String, String> otherKey = new java.util.HashMap<>(full.getData());
        otherKey.put(StoredCa.KEY, otherKey.get(StoredCa.CHAIN));
        client.secrets().inNamespace(NS).resource(new SecretBuilder(secret(SecretRotationStores.CA)).withData(otherKey).build()).update();
        assertThatThrownBy(this::open).isInstanceOf(CaStoreException.class)
                .hasMessageContaining("Secret septa-system/septa-ca key signing-key.pem")
                .hasMessageNotContaining("BEGIN");
    }

    @Test
    void aRootRotationRunsOnSecretsAndSurvivesARestartAtEveryStage() {
        X509Certificate oldRoot = open().signingCertificate();
        RootRotation rotation = rotation();
        rotation.begin();
        assertThat(secret(SecretRotationStores.NEXT)).isNotNull();
        assertThat(client.configMaps().inNamespace(NS).withName(SecretRotationStores.STAGE).get().getData())
                .containsEntry("stage", "bundle_extended");

        rotation = rotation();
        assertThat(rotation.stage()).isEqualTo(RootRotation.Stage.BUNDLE_EXTENDED);
        assertThat(rotation.roots()).hasSize(2).startsWith(oldRoot);
        X509Certificate newRoot = rotation.roots().get(1);
        rotation.switchSigner();

        rotation = rotation();
        assertThat(rotation.stage()).isEqualTo(RootRotation.Stage.SIGNER_SWITCHED);
        assertThat(open().issueWorkloadCredential(WEB).certificate().root()).isEqualTo(newRoot);
        rotation.retireOldRoots();

        rotation = rotation();
        assertThat(rotation.stage()).isEqualTo(RootRotation.Stage.NONE);
        assertThat(rotation.roots()).containsExactly(newRoot);
        assertThat(secret(SecretRotationStores.NEXT)).as("the successor's Secret is removed").isNull();
        assertThat(open().signingCertificate()).isEqualTo(newRoot);
    }

    @Test
    void anOperatorStagesASuccessorAsASecretAndTheRotationPicksItUp() {
        open();
        var stores = new SecretRotationStores(client, NS);
        assertThat(stores.stagingHint()).startsWith("kubectl -n septa-system create secret generic septa-ca-incoming");
        // What `kubectl create secret generic septa-ca-incoming --from-file=...` makes: a successor with its own root.
        var successor = dev.septa.ca.RootCaGenerator.generate(CONFIG, Clock.systemUTC());
        RootRotation.stageSuccessor(successor, stores, CONFIG, Clock.systemUTC());
        assertThat(secret(SecretRotationStores.INCOMING)).isNotNull();

        RootRotation rotation = rotation();
        assertThat(rotation.hasStagedSuccessor()).isTrue();
        assertThat(rotation.beginStaged()).isTrue();
        assertThat(secret(SecretRotationStores.INCOMING)).as("picked up and removed").isNull();
        assertThat(rotation.roots()).contains(successor.signingCertificate());
    }
}
