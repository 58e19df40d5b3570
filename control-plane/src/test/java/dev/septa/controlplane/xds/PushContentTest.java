package dev.septa.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import io.envoyproxy.controlplane.cache.DeltaResponse;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.Response;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * What goes out on a push, checked at the cache with clients that apply responses as the xDS protocol says: delta
 * sends only changed and removed resources; state of the world sends full state for listeners and clusters and only
 * changed routes and endpoints; every stream is handed the same packed resource, serialized once.
 */
class PushContentTest extends PushTestFixture {
    @Test
    void everyStreamIsHandedTheSamePackedResourceAndTheSerializerPassesItThrough() {
        var state = state(new int[][] {{0, 0}, {0}, {0, 0, 0}, {0}});
        publish(snapshot(state, new ResourceInterner()), "shop/a-1", "shop/a-2");
        SotwClient one = new SotwClient("shop/a-1");
        SotwClient two = new SotwClient("shop/a-2");
        DeltaClient three = new DeltaClient("shop/a-1");
        one.subscribe(CDS, List.of(), "");
        two.subscribe(CDS, List.of(), "");
        three.subscribe(CDS, List.of());
        List<? extends Message> a = List.copyOf(one.last(CDS).resources());
        List<? extends Message> b = List.copyOf(two.last(CDS).resources());
        assertThat(a).hasSize(3);
        for (int i = 0; i < a.size(); i++) {
            assertThat(b.get(i)).isSameAs(a.get(i));
            assertThat(three.last(CDS).resources().get(name((Any) a.get(i))).resource()).isSameAs(a.get(i));
            // What java-control-plane puts in each DiscoveryResponse: the same instance, not a re-serialized copy.
            assertThat(new PackedResourceSerializer().serialize(a.get(i), Resources.ApiVersion.V3)).isSameAs(a.get(i));
        }
    }

    @Test
    void sotwSendsChangedRoutesAndEndpointsOnlyAndFullListenersAndClusters() {
        var before = state(new int[][] {{0, 0}, {0, 0, 0}, {0, 0}, {0, 0, 0}});
        ResourceInterner interner = new ResourceInterner();
        publish(snapshot(before, interner), "shop/web-1");
        SotwClient client = new SotwClient("shop/web-1");
        client.subscribeAll(3);
        assertThat(client.last(RDS).resources()).hasSize(3);
        assertThat(client.last(EDS).resources()).hasSize(3);
        int sent = client.received.size();

        // One endpoint set changes, one route changes and one is removed; clusters and listeners stay.
        interner.nextGeneration();
        var after = state(new int[][] {{0, 0}, {1, 0, -1}, {0, 0}, {0, 0, 1}});
        publish(snapshot(after, interner), "shop/web-1");
        List<Response> push = List.copyOf(client.received.subList(sent, client.received.size()));
        assertThat(push).extracting(r -> r.request().getTypeUrl()).containsExactlyInAnyOrder(RDS, EDS);
        assertThat(client.last(EDS).resources()).extracting(m -> name((Any) m)).containsExactly("endpoints-2");
        assertThat(client.last(RDS).resources()).extracting(m -> name((Any) m)).containsExactly("route-0");
        assertThat(client.last(EDS).version()).isEqualTo(snapshot(after, null).type(EDS).version());
        assertThat(contents(client.held.get(EDS))).isEqualTo(expected(after, EDS));
        assertThat(cache.allInSync()).as("the partial versions are ACKed like full ones").isTrue();

        // A cluster changes too: CDS is full state, and EDS is sent whole, since an Envoy re-warms the changed
        // cluster and waits for its endpoints.
        sent = client.received.size();
        interner.nextGeneration();
        var clusters = state(new int[][] {{0, 0}, {1, 0, -1}, {0, 1}, {0, 0, 2}});
        publish(snapshot(clusters, interner), "shop/web-1");
        push = List.copyOf(client.received.subList(sent, client.received.size()));
        assertThat(push).extracting(r -> r.request().getTypeUrl()).containsExactlyInAnyOrder(CDS, EDS);
        assertThat(client.last(CDS).resources()).extracting(m -> name((Any) m)).containsExactly("cluster-0", "cluster-1");
        assertThat(client.last(EDS).resources()).extracting(m -> name((Any) m))
                .containsExactly("endpoints-0", "endpoints-1", "endpoints-2");
        assertThat(contents(client.held.get(CDS))).isEqualTo(expected(clusters, CDS));

        // A new subscription (one more name) is answered with every requested resource, changed or not.
        client.subscribe(EDS, namesOf(EDS, 2), client.last(EDS).version());
        assertThat(client.last(EDS).resources()).extracting(m -> name((Any) m)).containsExactly("endpoints-0", "endpoints-1");
    }

    @Test
    void afterANackTheNextSotwAnswerHoldsEveryRequestedResource() {
        ResourceInterner interner = new ResourceInterner();
        publish(snapshot(state(new int[][] {{}, {0, 0}, {}, {0, 0}}), interner), "shop/web-1");
        SotwClient client = new SotwClient("shop/web-1");
        client.names.put(EDS, namesOf(EDS, 2));
        client.subscribe(EDS, namesOf(EDS, 2), "");
        String good = client.last(EDS).version();
        interner.nextGeneration();
        publish(snapshot(state(new int[][] {{}, {0, 0}, {}, {1, 0}}), interner), "shop/web-1");
        assertThat(client.last(EDS).resources()).hasSize(1);
        client.received.clear();
        client.nack(EDS, good); // rejects the version holding endpoints-0 variant 1: it holds variant 0
        assertThat(client.received).as("the NACKed version is not resent").isEmpty();
        interner.nextGeneration();
        var fixed = state(new int[][] {{}, {0, 0}, {}, {2, 0}});
        publish(snapshot(fixed, interner), "shop/web-1");
        assertThat(client.last(EDS).resources()).extracting(m -> name((Any) m)).containsExactly("endpoints-0", "endpoints-1");
    }

    @Test
    void aNodeWaitsOnItsNackOnlyWhileTheNackedVersionIsInForce() {
        ResourceInterner interner = new ResourceInterner();
        publish(snapshot(state(new int[][] {{}, {0, 0}, {}, {0, 0}}), interner), "shop/web-1");
        SotwClient client = new SotwClient("shop/web-1");
        client.names.put(EDS, namesOf(EDS, 2));
        client.subscribe(EDS, namesOf(EDS, 2), "");
        assertThat(cache.waitingOnItsNack("shop/web-1")).as("in sync").isFalse();
        interner.nextGeneration();
        client.nackNext.add(EDS);
        publish(snapshot(state(new int[][] {{}, {0, 0}, {}, {1, 0}}), interner), "shop/web-1");
        assertThat(cache.allInSync()).isFalse();
        assertThat(cache.waitingOnItsNack("shop/web-1")).as("NACKed the version in force").isTrue();
        interner.nextGeneration();
        publish(snapshot(state(new int[][] {{}, {0, 0}, {}, {2, 0}}), interner), "shop/web-1");
        assertThat(cache.allInSync()).as("the next version is ACKed").isTrue();
        assertThat(cache.waitingOnItsNack("shop/web-1")).isFalse();
        assertThat(cache.waitingOnItsNack("shop/absent-1")).isFalse();
    }

    @Test
    void deltaSendsOnlyChangedAndRemovedResources() {
        ResourceInterner interner = new ResourceInterner();
        publish(snapshot(state(new int[][] {{0, 0, 0}, {0, 0}, {0, 0}, {0, 0}}), interner), "shop/web-1");
        DeltaClient client = new DeltaClient("shop/web-1");
        client.subscribeAll(2);
        assertThat(client.last(LDS).resources()).hasSize(3);
        int sent = client.received.size();
        interner.nextGeneration();
        var after = state(new int[][] {{0, 1, -1}, {0, 0}, {0, 0}, {0, 1}});
        publish(snapshot(after, interner), "shop/web-1");
        List<DeltaResponse> push = client.received.subList(sent, client.received.size());
        assertThat(push).extracting(r -> r.request().getTypeUrl()).containsExactlyInAnyOrder(LDS, EDS);
        assertThat(client.last(LDS).resources()).containsOnlyKeys("listener-1");
        assertThat(client.last(LDS).removedResources()).containsExactly("listener-2");
        assertThat(client.last(EDS).resources()).containsOnlyKeys("endpoints-1");
        assertThat(client.last(EDS).removedResources()).isEmpty();
        assertThat(contents(client.held.get(LDS))).isEqualTo(expected(after, LDS));
    }

    /**
     * A change that touches no resource a delta client subscribes sends it nothing, so no ACK follows; the node must
     * still count as holding the version in force (the fleet benchmark saw delta proxies stay "not in sync" for good
     * after an edit that another edit reverted).
     */
    @Test
    void aDeltaClientThatIsSentNothingStillConverges() {
        ResourceInterner interner = new ResourceInterner();
        publish(snapshot(state(new int[][] {{0}, {0}, {0, 0}, {0, 0}}), interner), "shop/web-1");
        DeltaClient client = new DeltaClient("shop/web-1");
        client.subscribeAll(1); // endpoints-0 by name, not endpoints-1
        assertThat(cache.status()).singleElement().satisfies(s -> assertThat(s.inSync()).isTrue());
        int sent = client.received.size();
        interner.nextGeneration();
        publish(snapshot(state(new int[][] {{0}, {0}, {0, 0}, {0, 1}}), interner), "shop/web-1");
        assertThat(client.received.subList(sent, client.received.size())).as("nothing it subscribes changed").isEmpty();
        assertThat(cache.status()).singleElement().satisfies(s -> assertThat(s.inSync()).isTrue());
    }

    /**
     * Over random edit sequences a delta client and a state-of-the-world client that apply every response end with
     * the same resources, and with exactly the mesh's: listeners and clusters as published, every existing route and
     * endpoint set as published (delta also drops removed ones; SotW cannot be told of those, by the protocol).
     * The delta client also reconnects at random points, announcing what it holds: sometimes after missing publishes
     * while away, sometimes right after one.
     */
    @Test
    void deltaAndSotwClientsEndWithTheSameResourcesOverRandomEdits() {
        Random random = new Random(20261205);
        for (int round = 0; round < 20; round++) {
            runRandomEdits(random, "shop/r" + round);
        }
    }

    private void runRandomEdits(Random random, String node) {
        int per = 5;
        int[][] variants = new int[4][per];
        for (int[] v : variants) {
            for (int i = 0; i < per; i++) {
                v[i] = random.nextInt(4) - 1;
            }
        }
        ResourceInterner interner = new ResourceInterner();
        var current = state(variants);
        publish(snapshot(current, interner), node + "-s", node + "-d");
        SotwClient sotw = new SotwClient(node + "-s");
        DeltaClient delta = new DeltaClient(node + "-d");
        sotw.subscribeAll(per);
        delta.subscribeAll(per);
        for (int step = 0; step < 30; step++) {
            int edits = 1 + random.nextInt(3);
            for (int e = 0; e < edits; e++) {
                variants[random.nextInt(4)][random.nextInt(per)] = random.nextInt(4) - 1; // -1: removed
            }
            current = state(variants);
            interner.nextGeneration();
            int reconnect = random.nextInt(10); // 0-1: away during this publish, 2: reconnects after it
            if (reconnect < 2) {
                delta.disconnect();
            }
            publish(snapshot(current, interner), node + "-s", node + "-d");
            if (reconnect <= 2) {
                int sent = delta.received.size();
                delta.reconnect();
                if (reconnect == 2) {
                    // Holding everything, it is sent no resource and told of no removal it did not know of; only
                    // names it subscribes that do not exist are said not to exist again, as to any new subscriber.
                    assertThat(delta.received.subList(sent, delta.received.size())).as("reconnects holding everything at step %s", step)
                            .allSatisfy(r -> {
                                assertThat(r.resources()).isEmpty();
                                String type = r.request().getTypeUrl();
                                assertThat(r.removedResources()).noneMatch(delta.held.get(type)::containsKey)
                                        .allMatch(delta.subscribed.get(type)::contains);
                            });
                }
            }
            for (String type : TYPES) {
                Map<String, String> want = expected(current, type);
                assertThat(contents(delta.held.get(type))).as("delta %s at step %s", type, step).isEqualTo(want);
                Map<String, String> sotwHeld = contents(sotw.held.get(type));
                if (type.equals(LDS) || type.equals(CDS)) {
                    assertThat(sotwHeld).as("sotw %s at step %s", type, step).isEqualTo(want);
                } else {
                    Map<String, String> existing = new TreeMap<>(sotwHeld);
                    existing.keySet().retainAll(want.keySet());
                    assertThat(existing).as("sotw %s at step %s", type, step).isEqualTo(want);
                }
            }
            assertThat(cache.allInSync()).as("in sync at step %s", step).isTrue();
        }
    }
}
