package dev.septa.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.withinPercentage;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The fleet benchmark v2 end to end at a tiny N, so that CI keeps it working: 20 simulated Envoys (half SotW, half
 * delta, two of them NACKing once) against the real control plane, every scenario, the reconnect storm and the
 * transport floor; the summary line must be there with every figure positive and the floor ratio finite.
 */
class FleetBenchmarkSmokeTest {
    @Test
    @Timeout(300)
    void twentyProxiesProduceASaneSummaryLine() throws Exception {
        System.setProperty("fleet.warmup", "1");
        System.setProperty("fleet.nackShare", "0.1");
        System.setProperty("fleet.clientXmx", "256m");
        FleetBenchmark.Result result = FleetBenchmark.run(20);

        String summary = result.summary();
        assertThat(summary).matches("fleet N=20 added-p99=\\d+ edited-p99=\\d+ churn-p99=\\d+ flip-p99=\\d+ storm=\\d+ "
                + "flip-floor-ratio=\\d+\\.\\d+ rss-per-proxy-kb=-?\\d+\\.\\d");
        Map<String, Double> figures = FleetBenchmark.parse(summary);
        assertThat(figures.keySet()).containsAll(FleetBenchmark.FIGURES);
        for (String figure : FleetBenchmark.FIGURES) {
            assertThat(figures.get(figure)).as(figure).isPositive().isFinite();
        }
        // The flip and the storm reach every proxy; the churn only those routed to app-0 (egress scoping, the default:
        // apps 1 to 3 of the 4 name it, 15 proxies); the floor replayed each to the same proxies.
        Map<String, Integer> reached = Map.of("flip", 20, "churn-add", 15, "storm", 20);
        for (String scenario : reached.keySet()) {
            assertThat(result.scenarios().get(scenario).affected()).as(scenario).isEqualTo(reached.get(scenario));
            assertThat(result.floors().get(scenario).affected()).as("floor " + scenario).isEqualTo(reached.get(scenario));
            assertThat(result.floors().get(scenario).bytes()).as("floor " + scenario + " bytes")
                    .isCloseTo(result.scenarios().get(scenario).bytes(), withinPercentage(10)); // nonces differ
        }
        // The narrow changes reach only the proxies they concern (app-0 and app-2: 2 of the 2 apps here, all 20).
        assertThat(result.scenarios().get("added").affected()).isPositive();
    }
}
