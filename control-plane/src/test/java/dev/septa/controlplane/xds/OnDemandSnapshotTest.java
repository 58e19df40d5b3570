package dev.septa.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.controlplane.auth.Principal;
import dev.septa.policy.compile.Dialect;
import dev.septa.policy.emit.ProxyResources;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The cache with a configuration whose snapshots are assembled on demand: it asks only for connected (node, dialect)
 * pairs, a node that connects or switches dialect after the publish gets exactly the snapshot an eager assembly
 * would give, and a connect racing publishes ends on the latest configuration, never on a stale or missing one.
 */
class OnDemandSnapshotTest {
    private final ProxyConfigCache cache = new ProxyConfigCache(XdsEvents.NONE);

    /** A hand-made configuration of generation {@code gen}: each (node, dialect) has its own cluster, assembled on first ask. */
    static final class LazyConfig implements PublishedConfig {
        final int gen;
        final Set<String> nodes;
        final Map<ProxyKey, ProxySnapshot> built = new ConcurrentHashMap<>();
        final Map<ProxyKey, Integer> asked = new ConcurrentHashMap<>();
        final Random slow = new Random();

        LazyConfig(int gen, Set<String> nodes) {
            this.gen = gen;
            this.nodes = nodes;
        }

        static ProxySnapshot eager(int gen, ProxyKey key) {
            return ProxySnapshot.of(key.dialect(), new ProxyResources(List.of(), List.of(),
                    List.of(Cluster.newBuilder().setName("gen" + gen + "|" + key.nodeId() + "|" + key.dialect()).build()), List.of()));
        }

        @Override
        public ProxySnapshot assembled(ProxyKey key) {
            return nodes.contains(key.nodeId()) ? built.get(key) : ProxySnapshot.EMPTY;
        }

        @Override
        public ProxySnapshot snapshotFor(ProxyKey key) {
            ProxySnapshot known = assembled(key);
            if (known != null) {
                return known;
            }
            asked.merge(key, 1, Integer::sum);
            if (slow.nextInt(2) == 0) {
                try {
                    Thread.sleep(1); // widen the window between a connect's look and its bind, as a large snapshot would
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return built.computeIfAbsent(key, k -> eager(gen, k));
        }

        @Override
        public Map<ProxyKey, ProxySnapshot> assembledSoFar() {
            return Map.copyOf(built);
        }
    }

    private StreamSession connect(String nodeId, Dialect dialect) {
        StreamSession session = new StreamSession(new Principal.NodeToken(nodeId, Instant.MAX));
        assertThat(cache.bind(session, nodeId, dialect)).isTrue();
        return session;
    }

    private String snapshotOf(String nodeId) {
        return cache.status().stream().filter(s -> s.nodeId().equals(nodeId)).findFirst().orElseThrow().snapshot();
    }

    @Test
    void onlyConnectedPairsAreAssembledAndLateComersGetTheEagerSnapshot() {
        connect("ns/early", Dialect.ENVOY);
        assertThat(snapshotOf("ns/early")).as("nothing is served before the first good compile").isNull();

        LazyConfig config = new LazyConfig(1, Set.of("ns/early", "ns/late", "ns/other"));
        cache.publish(config, System.nanoTime(), "v1");
        assertThat(config.asked).as("the publish assembled what was connected, nothing else")
                .containsOnlyKeys(new ProxyKey("ns/early", Dialect.ENVOY));
        assertThat(snapshotOf("ns/early")).isEqualTo(LazyConfig.eager(1, new ProxyKey("ns/early", Dialect.ENVOY)).key());

        connect("ns/late", Dialect.GRPC);
        assertThat(snapshotOf("ns/late")).isEqualTo(LazyConfig.eager(1, new ProxyKey("ns/late", Dialect.GRPC)).key());
        connect("ns/early", Dialect.GRPC); // the node switches dialect
        assertThat(snapshotOf("ns/early")).isEqualTo(LazyConfig.eager(1, new ProxyKey("ns/early", Dialect.GRPC)).key());
        connect("ns/unknown", Dialect.ENVOY); // not in the mesh: the empty configuration, nothing assembled
        assertThat(snapshotOf("ns/unknown")).isEqualTo(ProxySnapshot.EMPTY.key());
        assertThat(config.asked).containsOnlyKeys(new ProxyKey("ns/early", Dialect.ENVOY),
                new ProxyKey("ns/late", Dialect.GRPC), new ProxyKey("ns/early", Dialect.GRPC));
        assertThat(config.asked.values()).as("each assembled once").containsOnly(1);
        assertThat(cache.distinctSnapshots()).isEqualTo(3);
        assertThat(cache.connectedKeys()).containsExactlyInAnyOrder(new ProxyKey("ns/early", Dialect.GRPC),
                new ProxyKey("ns/late", Dialect.GRPC), new ProxyKey("ns/unknown", Dialect.ENVOY));
    }

    @Test
    void connectsRacingPublishesEndOnTheLatestConfiguration() throws Exception {
        List<String> nodes = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            nodes.add("ns/n" + i);
        }
        Set<String> inMesh = Set.copyOf(nodes);
        AtomicInteger started = new AtomicInteger(); // the generation being published (set before publish is called)
        AtomicInteger done = new AtomicInteger(); // the latest generation whose publish returned
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> connects = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                int first = t;
                connects.add(pool.submit(() -> {
                    go.await();
                    Random random = new Random(first);
                    for (int i = first; i < nodes.size(); i += 3) {
                        Thread.sleep(random.nextInt(3)); // connects spread over many publishes
                        for (int stream = 0; stream < 1 + (random.nextInt(3) == 0 ? 1 : 0); stream++) { // some get a second
                            Dialect dialect = random.nextBoolean() ? Dialect.ENVOY : Dialect.GRPC;
                            connect(nodes.get(i), dialect);
                            // Bound now: the node holds what is in force, at least as new as the last finished publish.
                            int atLeast = done.get();
                            String snapshot = snapshotOf(nodes.get(i));
                            int atMost = started.get();
                            ProxyKey key = new ProxyKey(nodes.get(i), dialect);
                            if (atLeast == 0 && snapshot == null) {
                                continue; // nothing published yet: nothing served
                            }
                            List<String> allowed = new ArrayList<>();
                            for (int g = Math.max(1, atLeast); g <= atMost; g++) {
                                allowed.add(LazyConfig.eager(g, key).key());
                            }
                            assertThat(allowed).as(key + " bound after publish " + atLeast).contains(snapshot);
                        }
                    }
                    return null;
                }));
            }
            go.countDown();
            int gen = 0;
            while (connects.stream().anyMatch(f -> !f.isDone()) || gen < 5) {
                gen++;
                LazyConfig config = new LazyConfig(gen, inMesh);
                int g = gen;
                // As the publisher: assemble what is connected (at once: publishes come fast, widening the race).
                cache.connectedKeys().forEach(k -> config.built.computeIfAbsent(k, kk -> LazyConfig.eager(g, kk)));
                started.set(gen);
                cache.publish(config, System.nanoTime(), "v" + gen);
                done.set(gen);
                java.util.concurrent.locks.LockSupport.parkNanos(100_000); // publishes come often, not in a busy loop
            }
            for (Future<?> f : connects) {
                f.get(30, TimeUnit.SECONDS);
            }
            int last = gen;
            for (ProxyKey key : cache.connectedKeys()) {
                assertThat(snapshotOf(key.nodeId())).as(key + " after " + last + " publishes")
                        .isEqualTo(LazyConfig.eager(last, key).key());
            }
            assertThat(cache.connectedKeys()).hasSize(nodes.size());
        } finally {
            pool.shutdownNow();
        }
    }
}
