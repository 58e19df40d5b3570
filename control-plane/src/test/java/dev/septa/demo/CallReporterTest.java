package dev.septa.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What the demo prints for each kind of call result; only policy decisions read ALLOWED or DENIED. */
class CallReporterTest {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final CallReporter reporter = new CallReporter(new PrintStream(bytes, true, StandardCharsets.UTF_8), Optional::empty, true);

    static WorkloadEvents.CallResult call(String target, String code, String detail) {
        return new WorkloadEvents.CallResult("-", "shop/storefront-1", target, "/shop.Catalog/List", code,
                code.equals("OK") ? "shop/catalog-1" : "-", "-", 3, detail);
    }

    String printed() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aCallWhoseCallerHadNoConfigurationYetIsNotReportedAsDenied() {
        reporter.report(call("catalog.shop:9090", "UNAVAILABLE",
                "NOT_FOUND: Timed out waiting for resource catalog.shop:9090 from xDS server nodeID: shop/storefront-1"));
        reporter.report(call("payments.shop:8443", "UNAVAILABLE", "Listener payments.shop:8443 does not exist"));
        // As seen in `septa demo` at load average 54: the call waited for the caller's configuration past its deadline.
        reporter.report(call("storefront.shop:8080", "DEADLINE_EXCEEDED", "CallOptions deadline exceeded after 2.340150248s. "
                + "Name resolution delay 16.581935289 seconds. [closed=[], open=[[connecting_and_lb_delay=2384632846ns, was_still_waiting]]]"));
        assertThat(printed()).doesNotContain("DENIED").doesNotContain("FAILED").contains(CallReporter.UNCONFIGURED)
                .contains("not a policy decision");
        assertThat(reporter.totals()).startsWith("0 allowed, 0 denied, 0 failed, 3 before their caller was configured");
        // Once a connection was tried, a missed deadline is a failure, not missing configuration.
        reporter.report(call("checkout.shop:8443", "DEADLINE_EXCEEDED", "CallOptions deadline exceeded after 10.5s. Name resolution "
                + "delay 9.4 seconds. [closed=[], open=[[connecting_and_lb_delay=9778760696ns, remote_addr=127.0.1.2/127.0.1.2:8443]]]"));
        assertThat(reporter.totals()).startsWith("0 allowed, 0 denied, 1 failed, 3 before");
    }

    @Test
    void policyDecisionsAndOtherFailuresKeepTheirNames() {
        reporter.report(call("catalog.shop:9090", "OK", ""));
        reporter.report(call("payments.shop:8443", "PERMISSION_DENIED", "Access Denied"));
        reporter.report(call("checkout.shop:8443", "UNAVAILABLE", "io exception (Connection refused)"));
        assertThat(printed()).contains("ALLOWED").contains("DENIED").contains("FAILED").contains("Connection refused")
                .doesNotContain(CallReporter.UNCONFIGURED);
        assertThat(reporter.totals()).isEqualTo("1 allowed, 1 denied, 1 failed");
    }

    @Test
    void nothingIsPrintedOnceStopped() {
        reporter.stop();
        reporter.report(call("catalog.shop:9090", "UNAVAILABLE", "Channel shutdownNow invoked"));
        assertThat(printed()).isEmpty();
    }
}
