package dev.septa.controlplane.kubernetes;

import dev.septa.ca.CaKeyStore;
import dev.septa.ca.CaStoreException;
import dev.septa.ca.RotationStores;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import java.time.Duration;

/**
 * The CA and its rotation state in the control plane's namespace (Kubernetes mode): Secret {@value #CA} (the CA),
 * {@value #NEXT} (the successor during a rotation), {@value #INCOMING} (an operator's staged successor) and the
 * stage in ConfigMap {@value #STAGE}. Whether a successor is staged is asked of the API at most every
 * {@link #INCOMING_CHECK} (the rotator ticks four times a second).
 */
public final class SecretRotationStores implements RotationStores {
    public static final String CA = "septa-ca";
    public static final String NEXT = "septa-ca-next";
    public static final String INCOMING = "septa-ca-incoming";
    public static final String STAGE = "septa-ca-rotation";
    static final Duration INCOMING_CHECK = Duration.ofSeconds(5);

    private final KubernetesClient client;
    private final String namespace;
    private final SecretCaKeyStore current;
    private final SecretCaKeyStore next;
    /** The staged successor's Secret; deleting it (a pick-up) also clears the cached "present" answer at once. */
    private final CaKeyStore incoming;
    private volatile long incomingCheckedAt = Long.MIN_VALUE;
    private volatile boolean incomingSeen;

    public SecretRotationStores(KubernetesClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
        this.current = new SecretCaKeyStore(client, namespace, CA);
        this.next = new SecretCaKeyStore(client, namespace, NEXT);
        SecretCaKeyStore staged = new SecretCaKeyStore(client, namespace, INCOMING);
        this.incoming = new CaKeyStore() {
            @Override
            public java.util.Optional<dev.septa.ca.CaMaterial> load() {
                return staged.load();
            }

            @Override
            public void save(dev.septa.ca.CaMaterial material) {
                staged.save(material);
            }

            @Override
            public String location() {
                return staged.location();
            }

            @Override
            public void delete() {
                staged.delete();
                incomingSeen = false;
            }
        };
    }

    @Override
    public CaKeyStore current() {
        return current;
    }

    @Override
    public CaKeyStore next() {
        return next;
    }

    @Override
    public CaKeyStore incoming() {
        return incoming;
    }

    @Override
    public boolean incomingPresent() {
        long now = System.nanoTime();
        if (incomingCheckedAt == Long.MIN_VALUE || now - incomingCheckedAt >= INCOMING_CHECK.toNanos()) {
            incomingCheckedAt = now;
            try {
                incomingSeen = client.secrets().inNamespace(namespace).withName(INCOMING).get() != null;
            } catch (KubernetesClientException e) {
                incomingSeen = false; // asked again at the next check
            }
        }
        return incomingSeen;
    }

    @Override
    public String readStage() {
        try {
            ConfigMap stage = client.configMaps().inNamespace(namespace).withName(STAGE).get();
            return stage == null || stage.getData() == null ? null : stage.getData().get("stage");
        } catch (KubernetesClientException e) {
            throw new CaStoreException("cannot read ConfigMap " + namespace + "/" + STAGE + " (HTTP " + e.getCode() + ")");
        }
    }

    @Override
    public void writeStage(String stage) {
        ConfigMap map = new ConfigMapBuilder().withNewMetadata().withNamespace(namespace).withName(STAGE)
                .addToLabels(SecretCaKeyStore.MANAGED_BY, "septa").endMetadata().addToData("stage", stage).build();
        try {
            client.configMaps().inNamespace(namespace).resource(map).createOr(NonDeletingOperation::patch);
        } catch (KubernetesClientException e) {
            throw new CaStoreException("cannot record the rotation stage in ConfigMap " + namespace + "/" + STAGE
                    + " (HTTP " + e.getCode() + ")");
        }
    }

    @Override
    public String stagingHint() {
        return "kubectl -n " + namespace + " create secret generic " + INCOMING + " --from-file=signing-key.pem=KEY"
                + " --from-file=signing-chain.pem=INTERMEDIATE --from-file=trust-bundle.pem=ROOTS"
                + " --from-literal=trust-domain=TRUST_DOMAIN";
    }

    @Override
    public String toString() {
        return "SecretRotationStores[" + namespace + "]";
    }
}
