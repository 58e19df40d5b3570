package dev.septa.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.controlplane.status.StatusReport;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code septa status} shows a NACK's own text, on its proxy's line. */
class StatusCommandTest {
    @Test
    void aNackIsShownWithTheProxysTextOnOneLine() {
        // The C-core 1.51's NACK of a server Listener, as it was seen (docs/proxyless.md), with its line breaks.
        String text = "errors validating ApiListener:\n  [field:...http_filters[1]...RBAC].rules.policies[shop/checkout-may-charge]"
                + ".permissions[0] error:invalid route header matcher specified]";
        var nack = new StatusReport.Nack("type.googleapis.com/envoy.config.listener.v3.Listener", "4f2a9c1e77", text, Instant.now());
        var proxy = new StatusReport.Proxy("poly/db-core", "grpc", 1, "s1", Map.of(), false, nack, null, Instant.now());
        var report = new StatusReport(new StatusReport.Compile(true, Instant.now(), List.of(), List.of(), "abc", Instant.now()),
                1, null, List.of(proxy), List.of(), null, List.of());
        var out = new StringWriter();
        StatusCommand.print(report, new PrintWriter(out, true));
        String line = out.toString().lines().filter(l -> l.startsWith("poly/db-core")).findFirst().orElseThrow();
        assertThat(line).contains("pending").contains("Listener 4f2a9c: errors validating ApiListener: [field:")
                .contains("error:invalid route header matcher specified]");
        assertThat(out.toString().lines()).noneMatch(l -> l.startsWith("  [field"));
    }
}
