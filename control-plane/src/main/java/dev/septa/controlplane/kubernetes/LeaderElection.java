package dev.septa.controlplane.kubernetes;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which replica writes (Kubernetes mode): fabric8's leader election on the {@code coordination.k8s.io/v1} Lease
 * {@value #LEASE} in the control plane's namespace. Every replica serves; only the holder writes (the CA and its
 * rotation stages, trust-bundle ConfigMaps, the webhook's caBundle, CR status), and each writer asks
 * {@link #isLeader()} before every write. The flag drops as soon as fabric8 sees the lease lost or not renewed within
 * {@code renewDeadline}, which is shorter than {@code leaseDuration}: a replica stops writing before any other may
 * take the lease (clocks being roughly in step, as client-go assumes too).
 */
public final class LeaderElection implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderElection.class);
    public static final String LEASE = "septa-leader";

    /** client-go's controller defaults: a lost leader is replaced within 15 s (+ one retry), renewals every 2 s. */
    public record Timing(Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {
        public static final Timing DEFAULT = new Timing(Duration.ofSeconds(15), Duration.ofSeconds(10), Duration.ofSeconds(2));

        public Timing {
            if (!(retryPeriod.compareTo(renewDeadline) < 0 && renewDeadline.compareTo(leaseDuration) < 0)) {
                throw new IllegalArgumentException("need retryPeriod < renewDeadline < leaseDuration");
            }
        }
    }

    private final KubernetesClient client;
    private final String namespace;
    private final String identity;
    private final Timing timing;
    private final boolean releaseOnClose;
    private volatile boolean leading;
    private volatile String leader;
    private final AtomicLong terms = new AtomicLong();
    private CompletableFuture<?> running;

    /**
     * {@code identity}: this replica's name in the Lease (the pod name). {@code releaseOnClose}: give the lease up on
     * {@link #close()} (a rolling update then fails over at once) rather than let it expire.
     */
    public LeaderElection(KubernetesClient client, String namespace, String identity, Timing timing, boolean releaseOnClose) {
        this.client = client;
        this.namespace = namespace;
        this.identity = identity;
        this.timing = timing;
        this.releaseOnClose = releaseOnClose;
    }

    public synchronized LeaderElection start() {
        var config = new LeaderElectionConfigBuilder().withName("septa")
                .withLock(new LeaseLock(namespace, LEASE, identity))
                .withLeaseDuration(timing.leaseDuration()).withRenewDeadline(timing.renewDeadline())
                .withRetryPeriod(timing.retryPeriod()).withReleaseOnCancel(releaseOnClose)
                .withLeaderCallbacks(new LeaderCallbacks(this::started, this::stopped, this::observed)).build();
        running = client.leaderElector().withConfig(config).build().start();
        return this;
    }

    private void started() {
        terms.incrementAndGet();
        leading = true;
        LOG.info("{} leads (Lease {}/{}): it writes the CA, rotation stages, trust bundles, caBundle and CR status", identity, namespace, LEASE);
    }

    private void stopped() {
        leading = false;
        LOG.info("{} no longer leads: it stops writing and follows the leader", identity);
    }

    private void observed(String holder) {
        leader = holder;
    }

    /** Whether this replica may write now. */
    public boolean isLeader() {
        return leading;
    }

    /** The identity of the replica last seen holding the lease, if any. */
    public String leader() {
        return leader;
    }

    public String identity() {
        return identity;
    }

    /** How many times this replica became the leader. */
    public long terms() {
        return terms.get();
    }

    @Override
    public synchronized void close() {
        leading = false; // before the cancel: not one more write
        if (running != null) {
            running.cancel(true);
        }
    }
}
