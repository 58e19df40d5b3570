package dev.septa.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.demo.CallPlanner;
import dev.septa.demo.DemoFleet;
import dev.septa.demo.ExpectedDecisions;
import dev.septa.demo.WorkloadEvents;
import dev.septa.e2e.support.ShopExample;
import dev.septa.e2e.support.StaticXdsServer;
import dev.septa.policy.check.Decision;
import dev.septa.policy.compile.CompiledMesh;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo workloads as real processes (one JVM and xDS node each) against a stand-in control plane that serves
 * the compiler's proxyless output unchanged: every planned call's real result equals {@code septa check}, and the
 * server saw the caller's SPIFFE ID. Independent of {@code septa serve}; its SimpleCache never answers a name a
 * proxy lacks, so calls to services the compiler scoped away are checked on the configuration, not made.
 */
class DemoWorkloadStaticTest {
    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS) Path work;

    record Pending(String from, CallPlanner.PlannedCall call, CompletableFuture<WorkloadEvents.CallResult> result) { }

    /** The first calls of a fresh fleet may meet name resolution still under way on a loaded machine: retry those. */
    static WorkloadEvents.CallResult settled(DemoFleet fleet, Pending p) throws Exception {
        WorkloadEvents.CallResult result = p.result().get(90, TimeUnit.SECONDS);
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (result.code().equals("DEADLINE_EXCEEDED") && System.nanoTime() < giveUp) {
            result = fleet.process(p.from()).call(p.call().target(), p.call().path()).get(90, TimeUnit.SECONDS);
        }
        return result;
    }

    @Test
    void everyPlannedCallMatchesSeptaCheck() throws Exception {
        CompiledMesh compiled = ShopExample.compile(ShopExample.copyTo(work.resolve("shop")));
        var expected = new ExpectedDecisions(compiled);
        try (var server = new StaticXdsServer(compiled);
             var fleet = new DemoFleet(work, server, Duration.ZERO, (id, event) -> {
                 if (!event.kind().equals("call") && !event.kind().equals("served")) {
                     System.out.println(id + " " + event);
                 }
             }).start(compiled.mesh())) {
            fleet.awaitReady(Duration.ofSeconds(120));
            List<String> mismatches = new ArrayList<>();
            List<Pending> pending = new ArrayList<>();
            int unrouted = 0;
            for (Map.Entry<String, List<CallPlanner.PlannedCall>> entry : CallPlanner.plan(compiled.mesh()).entrySet()) {
                String from = entry.getKey();
                List<String> listeners = compiled.proxies().get(from).grpc().listeners().stream().map(Listener::getName).toList();
                for (CallPlanner.PlannedCall call : entry.getValue()) {
                    if (listeners.contains(call.target())) {
                        pending.add(new Pending(from, call, fleet.process(from).call(call.target(), call.path())));
                    } else {
                        // Egress scoping: no route at all, which must mean septa check denies it.
                        Decision decision = expected.decide(from, call.target(), call.path(), null).orElseThrow();
                        if (decision.allowed()) {
                            mismatches.add(from + " -> " + call.target() + call.path() + ": no route, but check says " + decision);
                        }
                        unrouted++;
                    }
                }
            }
            for (Pending p : pending) {
                WorkloadEvents.CallResult result = settled(fleet, p);
                Decision decision = expected.decide(p.from(), p.call().target(), p.call().path(), result.server()).orElseThrow();
                System.out.printf("%s -> %s %s: %s %s (check: %s)%n", p.from(), p.call().target(), p.call().path(),
                        result.code(), result.detail(), decision);
                boolean agrees = decision.allowed() ? result.ok() : result.permissionDenied();
                if (!agrees) {
                    mismatches.add(p.from() + " -> " + p.call().target() + p.call().path() + ": " + result.code() + " "
                            + result.detail() + " vs " + decision);
                }
                if (result.ok()) {
                    var caller = compiled.mesh().workloads().stream().filter(w -> w.id().equals(p.from())).findFirst().orElseThrow();
                    assertThat(result.callerSeen()).isEqualTo(compiled.mesh().config().spiffeId(caller.metadata().namespace(), caller.serviceAccount()));
                }
            }
            System.out.println(pending.size() + " calls made, " + unrouted + " unrouted");
            assertThat(pending).hasSizeGreaterThan(10);
            assertThat(pending).anyMatch(p -> p.result().join().ok()).anyMatch(p -> p.result().join().permissionDenied());
            assertThat(mismatches).isEmpty();
        }
    }
}
