package dev.septa.controlplane.kubernetes;

import dev.septa.ca.CaKeyStore;
import dev.septa.ca.CaMaterial;
import dev.septa.ca.CaStoreException;
import dev.septa.ca.StoredCa;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A CA store in one Kubernetes Secret (type Opaque, the same four parts as the file store, {@link StoredCa}), so a
 * restarted or rescheduled control plane keeps its root. One Secret is one object: a save replaces all parts at
 * once, as the file store's redo log does on disk. Creating it is atomic ({@link #create}): of two replicas starting
 * together, the second finds the first's CA and reads it back, so both sign with the same root.
 * A Secret missing some parts, or holding parts that do not parse,
 * is refused with the reason and never replaced. The key is never logged; {@link #toString()} names the Secret only.
 */
public final class SecretCaKeyStore implements CaKeyStore {
    static final String MANAGED_BY = "app.kubernetes.io/managed-by";

    private final KubernetesClient client;
    private final String namespace;
    private final String name;

    public SecretCaKeyStore(KubernetesClient client, String namespace, String name) {
        this.client = client;
        this.namespace = namespace;
        this.name = name;
    }

    @Override
    public Optional<CaMaterial> load() {
        Secret secret = call(() -> client.secrets().inNamespace(namespace).withName(name).get());
        if (secret == null) {
            return Optional.empty();
        }
        Map<String, String> parts = new HashMap<>();
        Map<String, String> data = secret.getData() == null ? Map.of() : secret.getData();
        for (String part : StoredCa.PARTS) {
            String encoded = data.get(part);
            if (encoded != null) {
                try {
                    parts.put(part, new String(Base64.getDecoder().decode(encoded), StandardCharsets.US_ASCII));
                } catch (IllegalArgumentException e) {
                    throw corrupt("key " + part + " is not base64");
                }
            }
        }
        if (parts.isEmpty()) {
            return Optional.empty();
        }
        List<String> missing = StoredCa.PARTS.stream().filter(p -> !parts.containsKey(p)).toList();
        if (!missing.isEmpty()) {
            throw new CaStoreException("CA store " + location() + " is incomplete: " + missing + " missing. It is not"
                    + " replaced automatically: restore it from a backup, or delete the Secret to create a new CA (every"
                    + " workload certificate must then be reissued)");
        }
        return Optional.of(StoredCa.decode(parts, part -> location() + " key " + part, this::corrupt));
    }

    @Override
    public void save(CaMaterial material) {
        Secret secret = secret(material);
        call(() -> client.secrets().inNamespace(namespace).resource(secret).createOr(NonDeletingOperation::patch));
    }

    /** An atomic create: false when the Secret already exists (another replica created the CA first). */
    @Override
    public boolean create(CaMaterial material) {
        try {
            client.secrets().inNamespace(namespace).resource(secret(material)).create();
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409) {
                return false;
            }
            throw storeError(e);
        }
    }

    private Secret secret(CaMaterial material) {
        Map<String, String> data = new HashMap<>();
        StoredCa.encode(material).forEach((part, text) ->
                data.put(part, Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.US_ASCII))));
        return new SecretBuilder().withNewMetadata().withNamespace(namespace).withName(name)
                .addToLabels(MANAGED_BY, "septa").endMetadata().withType("Opaque").withData(data).build();
    }

    @Override
    public void delete() {
        call(() -> client.secrets().inNamespace(namespace).withName(name).delete());
    }

    @Override
    public String location() {
        return "Secret " + namespace + "/" + name;
    }

    private CaStoreException corrupt(String what) {
        return new CaStoreException("CA store " + location() + " is corrupt: " + what + ". It is not replaced"
                + " automatically: restore it from a backup, or delete the Secret to create a new CA (every workload"
                + " certificate must then be reissued)");
    }

    /** API failures become store errors naming the Secret (and never carry the Secret's data). */
    private <T> T call(java.util.function.Supplier<T> request) {
        try {
            return request.get();
        } catch (KubernetesClientException e) {
            throw storeError(e);
        }
    }

    private CaStoreException storeError(KubernetesClientException e) {
        String reason = e.getStatus() != null && e.getStatus().getMessage() != null ? ": " + e.getStatus().getMessage() : "";
        return new CaStoreException("cannot use " + location() + " (HTTP " + e.getCode() + ")" + reason);
    }

    @Override
    public String toString() {
        return "SecretCaKeyStore[" + namespace + "/" + name + "]";
    }
}
