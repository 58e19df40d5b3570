package dev.septa.controlplane.kubernetes;

import dev.septa.controlplane.ControlPlaneCore;
import dev.septa.controlplane.source.KubernetesMeshSource;
import dev.septa.controlplane.source.MeshSource;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;

/**
 * {@code septa serve --kubernetes} around the core: the {@link KubernetesMeshSource} (give {@link #source()} to
 * {@code ControlPlaneOptions.source}), and once the core runs, {@link #attach} sends every watch event to the
 * publisher and starts publishing the trust bundle into the mesh's namespaces.
 */
public final class KubernetesMode implements AutoCloseable {
    private final KubernetesMeshSource source;
    private final KubernetesClient client;
    private TrustBundlePublisher trustBundles;

    private KubernetesMode(KubernetesClient client, KubernetesMeshSource source) {
        this.client = client;
        this.source = source;
    }

    /** Lists and starts watching everything the mesh is made of; fails with the object kind it could not read. */
    public static KubernetesMode connect(KubernetesClient client, Duration syncTimeout) throws MeshSource.SourceException {
        return new KubernetesMode(client, new KubernetesMeshSource(client).start(syncTimeout));
    }

    public KubernetesMeshSource source() {
        return source;
    }

    /** Watch events reach the publisher without waiting for its poll; the trust bundle follows the CA. */
    public KubernetesMode attach(ControlPlaneCore core, Duration bundleCheck, Duration resync) {
        source.addListener(core::sourceChanged);
        trustBundles = new TrustBundlePublisher(client, source::meshNamespaces, core.certificates()::trustBundlePem,
                bundleCheck, resync).start();
        source.addListener(trustBundles::trigger);
        return this;
    }

    @Override
    public void close() {
        if (trustBundles != null) {
            trustBundles.close();
        }
        source.close();
    }
}
