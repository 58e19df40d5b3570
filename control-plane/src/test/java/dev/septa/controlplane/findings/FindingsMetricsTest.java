package dev.septa.controlplane.findings;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.controlplane.graph.Observation;
import dev.septa.controlplane.graph.RequestCounters;
import dev.septa.controlplane.graph.Verdict;
import dev.septa.controlplane.graph.WorkloadRef;
import dev.septa.policy.model.MeshConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Prometheus side in its exposition format: {@code septa_requests_total} per edge, verdict and intent up to its
 * series bound, then the overflow series; {@code septa_findings_total} by kind. And the standard-output sink of
 * Kubernetes mode. (The same after real traffic on the running control plane: {@code FindingsControlPlaneTest}.)
 */
class FindingsMetricsTest {
    static final WorkloadRef B = WorkloadRef.workload("shop", "b", "b");

    @Test
    void requestCountersStopAtTheirBoundAndCountTheRestInTheOverflowSeries() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        RequestCounters counters = new RequestCounters(registry, 3);
        for (int i = 0; i < 10; i++) {
            WorkloadRef from = WorkloadRef.workload("shop", "s" + i, null);
            counters.observed(new Observation(from, B, 8443, i % 2 == 0 ? Verdict.DENY : Verdict.ALLOW,
                    i % 2 == 0 ? "shop/no" : null, null, "GET", "/"), 2, 0);
        }
        String text = registry.scrape();
        assertThat(counters.seriesCount()).isEqualTo(3);
        assertThat(text).contains("septa_requests_total{destination_namespace=\"shop\",destination_workload=\"b\",intent=\"shop/no\","
                + "port=\"8443\",source_namespace=\"shop\",source_workload=\"s0\",verdict=\"DENY\"} 2.0");
        assertThat(text).contains("septa_requests_total{destination_namespace=\"shop\",destination_workload=\"b\",intent=\"unknown\","
                + "port=\"8443\",source_namespace=\"shop\",source_workload=\"s1\",verdict=\"ALLOW\"} 2.0");
        // s0, s1, s2 hold the 3 series; s3 .. s9 are 7 calls of 2 (s4, s6, s8 denied, s3, s5, s7, s9 allowed) in the
        // overflow series by verdict.
        assertThat(text).contains("septa_requests_total{destination_namespace=\"_overflow_\",destination_workload=\"_overflow_\","
                + "intent=\"_overflow_\",port=\"_overflow_\",source_namespace=\"_overflow_\",source_workload=\"_overflow_\",verdict=\"DENY\"} 6.0");
        assertThat(text).contains("source_workload=\"_overflow_\",verdict=\"ALLOW\"} 8.0");
        assertThat(text).contains("septa_requests_overflow_total 14.0");
        assertThat(text.lines().filter(l -> l.startsWith("septa_requests_total{")).count()).isEqualTo(3 + 2);
    }

    @Test
    void findingsAreCountedByKind() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        FindingsStore store = new FindingsStore(10);
        store.addListener(new FindingsMetrics(registry, store));
        var detector = new FindingsDetector(store, FindingsDetector.Limits.DEFAULT,
                new MeshConfig.Detection(1, Duration.ofMinutes(1), Duration.ofSeconds(10)));
        WorkloadRef a = WorkloadRef.workload("shop", "a", null);
        detector.observed(new Observation(a, B, 1, Verdict.DENY, "default", null, null, null), 5, 1_000);
        detector.observed(new Observation(a, B, 2, Verdict.ALLOW, "shop/ok", "shop/dry", null, null), 1, 1_000);
        String text = registry.scrape();
        assertThat(text).contains("septa_findings_total{kind=\"PROBING\"} 1.0", "septa_findings_total{kind=\"WOULD_DENY\"} 1.0",
                "septa_findings_total{kind=\"NEW_EDGE\"} 0.0", "septa_findings_active 2.0", "septa_findings_evicted_total 0.0");
    }

    @Test
    void theStandardOutputSinkWritesOneJsonLinePerFinding() throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            FindingsSink sink = FindingsSink.standardOutput();
            Finding f = new Finding("NEW_EDGE shop/a -> shop/b:80", FindingKind.NEW_EDGE, "shop/a", "shop/b", 80, "shop/ok",
                    List.of("GET /q"), List.of("shop/b:80"), "2027-01-15T08:00:00Z", "2027-01-15T08:00:00Z", 1);
            sink.raised(f);
            sink.updated(f); // within the minute: no line
            sink.close();
        } finally {
            System.setOut(original);
        }
        List<String> lines = captured.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines).singleElement().asString()
                .startsWith("{\"type\":\"septa.finding\",\"event\":\"raised\",\"at\":\"")
                .contains("\"finding\":{\"id\":\"NEW_EDGE shop/a -> shop/b:80\",\"kind\":\"NEW_EDGE\"");
    }
}
