package dev.septa.controlplane.findings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.septa.controlplane.graph.Observation;
import dev.septa.controlplane.graph.Verdict;
import dev.septa.controlplane.graph.WorkloadRef;
import dev.septa.policy.model.MeshConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The detector's rules and bounds with explicit timestamps (the real-traffic path is {@code FindingsControlPlaneTest}):
 * the probing threshold and window, the learning window, DryRun would-deny, and what happens past each bound.
 */
class FindingsDetectorTest {
    static final WorkloadRef A = WorkloadRef.workload("shop", "a", "a");
    static final WorkloadRef B = WorkloadRef.workload("shop", "b", "b");
    static final long T0 = 1_800_000_000_000L;

    final List<Finding> raised = new ArrayList<>();
    final List<Finding> evicted = new ArrayList<>();

    FindingsDetector detector(int maxFindings, FindingsDetector.Limits limits, MeshConfig.Detection d) {
        FindingsStore store = new FindingsStore(maxFindings);
        store.addListener(new FindingsStore.Listener() {
            @Override
            public void raised(Finding f) {
                raised.add(f);
            }

            @Override
            public void evicted(Finding f) {
                evicted.add(f);
            }
        });
        return new FindingsDetector(store, limits, d);
    }

    static Observation denied(WorkloadRef from, WorkloadRef to, int port) {
        return new Observation(from, to, port, Verdict.DENY, "default", null, "POST", "/p");
    }

    static Observation allowed(WorkloadRef from, WorkloadRef to, int port, String wouldDeny) {
        return new Observation(from, to, port, Verdict.ALLOW, "shop/ok", wouldDeny, "GET", "/q");
    }

    @Test
    void probingNeedsMoreThanTheThresholdWithinTheWindow() {
        var d = detector(100, FindingsDetector.Limits.DEFAULT, new MeshConfig.Detection(3, Duration.ofSeconds(60), Duration.ofSeconds(10)));
        // 3 denied calls a minute apart never make 4 within a minute.
        for (int i = 0; i < 3; i++) {
            d.observed(denied(A, B, 80), 1, T0 + i * 61_000L);
        }
        assertThat(raised).isEmpty();
        // 4 within a minute do: one finding, which later denied calls update rather than repeat.
        long t = T0 + 10 * 60_000L;
        for (int i = 0; i < 4; i++) {
            d.observed(denied(A, B, 80 + i), 1, t + i * 1_000L);
        }
        assertThat(raised).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo(FindingKind.PROBING);
            assertThat(f.count()).isEqualTo(4);
            assertThat(f.targets()).containsExactly("shop/b:80", "shop/b:81", "shop/b:82", "shop/b:83");
        });
        d.observed(denied(A, B, 99), 5, t + 10_000L);
        assertThat(raised).hasSize(1);
        Finding now = d.store().list().getFirst();
        assertThat(now.count()).isEqualTo(9);
        assertThat(now.targets()).containsExactly("shop/b:80", "shop/b:81", "shop/b:82", "shop/b:83", "shop/b:99");
        assertThat(now.samples()).containsExactly("POST /p");
    }

    @Test
    void newEdgesOnlyAfterTheLearningWindowCountedFromTheFirstCall() {
        var d = detector(100, FindingsDetector.Limits.DEFAULT, new MeshConfig.Detection(3, Duration.ofSeconds(60), Duration.ofSeconds(10)));
        assertThat(d.status(T0).learningEndsAt()).isNull();
        d.observed(allowed(A, B, 80, null), 1, T0);
        d.observed(allowed(B, A, 80, null), 1, T0 + 9_999);
        assertThat(d.status(T0 + 9_999).learning()).isTrue();
        assertThat(raised).isEmpty();
        d.observed(allowed(A, B, 80, null), 1, T0 + 10_000); // learned
        d.observed(allowed(A, B, 81, null), 2, T0 + 10_000); // another port: new
        d.observed(allowed(A, B, 81, null), 1, T0 + 11_000);
        assertThat(raised).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo(FindingKind.NEW_EDGE);
            assertThat(f.port()).isEqualTo(81);
            assertThat(f.intent()).isEqualTo("shop/ok");
        });
        assertThat(d.store().list().getFirst().count()).isEqualTo(3);
    }

    @Test
    void dryRunWouldDenyOnAllowedTrafficIsAFindingPerIntentAndEdge() {
        var d = detector(100, FindingsDetector.Limits.DEFAULT, MeshConfig.Detection.DEFAULT);
        d.observed(allowed(A, B, 80, "shop/dry"), 1, T0);
        d.observed(allowed(A, B, 80, "shop/dry"), 1, T0 + 1);
        d.observed(allowed(A, B, 80, "shop/other-dry"), 1, T0 + 2);
        // Already denied: the DryRun intent would change nothing.
        d.observed(new Observation(A, B, 80, Verdict.DENY, "default", "shop/dry", "GET", "/q"), 1, T0 + 3);
        assertThat(raised).extracting(Finding::intent).containsExactly("shop/dry", "shop/other-dry");
        assertThat(d.store().list()).filteredOn(f -> "shop/dry".equals(f.intent())).singleElement()
                .extracting(Finding::count).isEqualTo(2L);
    }

    @Test
    void pastTheFindingsBoundTheOldestUpdatedIsEvicted() {
        var d = detector(3, FindingsDetector.Limits.DEFAULT, new MeshConfig.Detection(1, Duration.ofSeconds(60), Duration.ofSeconds(10)));
        for (int i = 0; i < 5; i++) {
            WorkloadRef src = WorkloadRef.workload("shop", "s" + i, null);
            d.observed(denied(src, B, 80), 2, T0 + i);
        }
        assertThat(d.store().size()).isEqualTo(3);
        assertThat(d.store().evicted()).isEqualTo(2);
        assertThat(evicted).extracting(Finding::source).containsExactly("shop/s0", "shop/s1");
        assertThat(d.store().list()).extracting(Finding::source).containsExactly("shop/s4", "shop/s3", "shop/s2");
        assertThat(d.store().raisedByKind()).containsEntry("PROBING", 5L);
    }

    @Test
    void pastTheSourceBoundDeniedCallsAreCountedAsUntracked() {
        var d = detector(100, new FindingsDetector.Limits(2, 10), new MeshConfig.Detection(5, Duration.ofSeconds(60), Duration.ofSeconds(10)));
        for (int i = 0; i < 4; i++) {
            d.observed(denied(WorkloadRef.workload("shop", "s" + i, null), B, 80), 1, T0);
        }
        assertThat(d.status(T0).trackedSources()).isEqualTo(2);
        assertThat(d.status(T0).untrackedDenials()).isEqualTo(2);
        // A minute later the idle sources are dropped and a new one is tracked.
        d.observed(denied(WorkloadRef.workload("shop", "late", null), B, 80), 1, T0 + 120_000);
        assertThat(d.status(T0 + 120_000).trackedSources()).isEqualTo(1);
    }

    @Test
    void aLearningWindowThatSeesMoreEdgesThanTheBoundTurnsNewEdgeDetectionOff() {
        var d = detector(100, new FindingsDetector.Limits(10, 3), new MeshConfig.Detection(5, Duration.ofSeconds(60), Duration.ofSeconds(10)));
        for (int i = 0; i < 4; i++) {
            d.observed(allowed(A, B, 80 + i, null), 1, T0 + i);
        }
        assertThat(d.status(T0 + 5).newEdgeDetection()).isFalse();
        d.observed(allowed(A, B, 999, null), 1, T0 + 60_000);
        assertThat(raised).isEmpty();
    }

    @TempDir
    Path dir;

    @Test
    void theFileSinkRotatesBySizeAndKeepsThreeOldFiles() throws Exception {
        Path file = dir.resolve("findings.jsonl");
        FindingsSink sink = FindingsSink.file(file, 1024);
        for (int i = 0; i < 40; i++) {
            sink.raised(new Finding("PROBING shop/s" + i, FindingKind.PROBING, "shop/s" + i, "shop/b", 80, "default",
                    List.of("POST /p"), List.of("shop/b:80"), "2027-01-15T08:00:00Z", "2027-01-15T08:00:01Z", 21));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> sink.written() == 40);
        sink.close();
        assertThat(sink.dropped()).isZero();
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
                    .containsExactly("findings.jsonl", "findings.jsonl.1", "findings.jsonl.2", "findings.jsonl.3");
        }
        for (String name : List.of("findings.jsonl", "findings.jsonl.1", "findings.jsonl.2", "findings.jsonl.3")) {
            assertThat(Files.size(dir.resolve(name))).isLessThanOrEqualTo(1024);
        }
        // The newest line is the last one written, whole.
        List<String> last = Files.readAllLines(file);
        assertThat(last.getLast()).startsWith("{\"type\":\"septa.finding\",\"event\":\"raised\"").contains("\"source\":\"shop/s39\"");
    }
}
