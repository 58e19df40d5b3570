package dev.septa.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.controlplane.cache.DeltaResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Delta clients that reconnect announcing the versions they hold ({@code initial_resource_versions}): sent only what
 * they do not hold, told of what is gone, then or later, and in sync without an answer when they hold everything.
 */
class DeltaReconnectTest extends PushTestFixture {
    /**
     * A delta proxy that reconnects (the control plane restarted) announcing the versions it holds is sent nothing
     * when it holds them all, and still counts as in sync: status, allInSync and the audit's ACK (the fleet
     * benchmark's reconnect storm sent an all-delta fleet everything again).
     */
    @Test
    void aDeltaClientThatReconnectsHoldingEverythingIsSentNothingAndConverges() {
        ResourceInterner interner = new ResourceInterner();
        var state = state(new int[][] {{0, 0}, {0, 0}, {0, 0}, {0, 0}});
        ProxySnapshot snapshot = snapshot(state, interner);
        publish(snapshot, "shop/web-1");
        DeltaClient client = new DeltaClient("shop/web-1");
        client.subscribeAll(2);
        int sent = client.received.size();
        client.reconnect();
        assertThat(client.received.subList(sent, client.received.size())).as("it holds everything").isEmpty();
        for (String type : TYPES) {
            assertThat(contents(client.held.get(type))).isEqualTo(expected(state, type));
        }
        assertThat(cache.allInSync()).isTrue();
        assertThat(cache.status()).singleElement().satisfies(s -> {
            assertThat(s.inSync()).isTrue();
            TYPES.forEach(t -> assertThat(s.ackedVersions()).containsEntry(t, snapshot.type(t).version()));
        });
        // The new stream's node is ACKed at each version in force, and nothing is recorded as sent again.
        List<String> records = List.copyOf(audit);
        List<String> afterReconnect = records.subList(records.lastIndexOf("shop/web-1 " + EDS + " SENT " + snapshot.type(EDS).version()) + 1,
                records.size());
        assertThat(afterReconnect).containsExactlyInAnyOrderElementsOf(TYPES.stream()
                .map(t -> "shop/web-1 " + t + " ACKED " + snapshot.type(t).version()).toList());
    }

    /**
     * A delta proxy that was away during a change is sent, on reconnecting, only the resources whose version differs
     * from the one it announces, and is told of those it holds that are gone: by wildcard (listeners) and by name
     * (routes, endpoints).
     */
    @Test
    void aDeltaClientThatReconnectsGetsOnlyWhatChangedAndIsToldWhatIsGone() {
        ResourceInterner interner = new ResourceInterner();
        publish(snapshot(state(new int[][] {{0, 0, 0}, {0, 0}, {0, 0}, {0, 0}}), interner), "shop/web-1");
        DeltaClient client = new DeltaClient("shop/web-1");
        client.subscribeAll(2);
        client.disconnect();
        interner.nextGeneration();
        var after = state(new int[][] {{0, 1, -1}, {0, -1}, {0, 0}, {1, 0}});
        publish(snapshot(after, interner), "shop/web-1");
        int sent = client.received.size();
        client.reconnect();
        List<DeltaResponse> push = client.received.subList(sent, client.received.size());
        assertThat(push).extracting(r -> r.request().getTypeUrl()).containsExactlyInAnyOrder(LDS, RDS, EDS);
        assertThat(client.last(LDS).resources()).containsOnlyKeys("listener-1");
        assertThat(client.last(LDS).removedResources()).containsExactly("listener-2");
        assertThat(client.last(RDS).resources()).isEmpty();
        assertThat(client.last(RDS).removedResources()).containsExactly("route-1");
        assertThat(client.last(EDS).resources()).containsOnlyKeys("endpoints-0");
        assertThat(client.last(EDS).removedResources()).isEmpty();
        for (String type : TYPES) {
            assertThat(contents(client.held.get(type))).as(type).isEqualTo(expected(after, type));
        }
        assertThat(cache.allInSync()).isTrue();

        // A route it is told is gone but still subscribes comes back: it is sent again.
        interner.nextGeneration();
        var back = state(new int[][] {{0, 1, -1}, {0, 0}, {0, 0}, {1, 0}});
        publish(snapshot(back, interner), "shop/web-1");
        assertThat(client.last(RDS).resources()).containsOnlyKeys("route-1");
        assertThat(contents(client.held.get(RDS))).isEqualTo(expected(back, RDS));
    }

    /**
     * A resource the proxy holds only by its announcement (it was never sent on this stream) that disappears in a
     * later publish is still reported removed; otherwise the proxy would keep a stale resource for good.
     */
    @Test
    void aResourceHeldSinceTheStreamBeganIsReportedRemovedWhenItGoesLater() {
        ResourceInterner interner = new ResourceInterner();
        publish(snapshot(state(new int[][] {{0, 0}, {0, 0}, {0, 0}, {0, 0}}), interner), "shop/web-1");
        DeltaClient client = new DeltaClient("shop/web-1");
        client.subscribeAll(2);
        int sent = client.received.size();
        client.reconnect();
        assertThat(client.received).hasSize(sent);
        interner.nextGeneration();
        var after = state(new int[][] {{-1, 0}, {0, -1}, {0, 1}, {0, 0}});
        publish(snapshot(after, interner), "shop/web-1");
        assertThat(client.last(LDS).removedResources()).containsExactly("listener-0");
        assertThat(client.last(LDS).resources()).isEmpty();
        assertThat(client.last(RDS).removedResources()).containsExactly("route-1");
        assertThat(client.last(CDS).resources()).containsOnlyKeys("cluster-1");
        for (String type : TYPES) {
            assertThat(contents(client.held.get(type))).as(type).isEqualTo(expected(after, type));
        }
        assertThat(cache.allInSync()).isTrue();
    }

    /**
     * A NACKed response does not make the server think the proxy holds what it rejected: the proxy keeps the version
     * it announced, so that resource is still reported removed when it goes, and sent when it changes again.
     */
    @Test
    void aNackedResponseLeavesTheAnnouncedVersionsInForce() {
        ResourceInterner interner = new ResourceInterner();
        var first = state(new int[][] {{0, 0}, {}, {0}, {}});
        publish(snapshot(first, interner), "shop/web-1");
        DeltaClient client = new DeltaClient("shop/web-1");
        client.subscribe(LDS, List.of());
        client.subscribe(CDS, List.of());
        client.disconnect();
        interner.nextGeneration();
        publish(snapshot(state(new int[][] {{1, 1}, {}, {0}, {}}), interner), "shop/web-1");
        client.nackNext.add(LDS);
        int sent = client.received.size();
        client.reconnect();
        assertThat(client.received.subList(sent, client.received.size())).singleElement()
                .satisfies(r -> assertThat(r.resources()).containsOnlyKeys("listener-0", "listener-1"));
        assertThat(contents(client.held.get(LDS))).as("rejected").isEqualTo(expected(first, LDS));
        assertThat(cache.allInSync()).isFalse();

        // listener-0 goes and listener-1 changes again: the proxy, still holding variant 0 of both, hears of both.
        interner.nextGeneration();
        var fixed = state(new int[][] {{-1, 2}, {}, {0}, {}});
        publish(snapshot(fixed, interner), "shop/web-1");
        assertThat(client.last(LDS).removedResources()).containsExactly("listener-0");
        assertThat(client.last(LDS).resources()).containsOnlyKeys("listener-1");
        assertThat(contents(client.held.get(LDS))).isEqualTo(expected(fixed, LDS));
        assertThat(cache.allInSync()).isTrue();
    }

}
