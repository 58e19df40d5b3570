package dev.septa.controlplane.graph;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.septa.policy.parse.FuzzBounds;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.TCPAccessLogEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the access-log entry decoder with arbitrary bytes as Envoy would send them in a StreamAccessLogsMessage: the
 * first byte chooses an HTTP or a TCP entry, the rest is its protobuf encoding. Bytes protobuf refuses are refused
 * (the receiver counts them malformed); any entry that decodes becomes an observation or is counted malformed, never
 * an exception. Seeds: entries like the receiver tests' ({@link #seedsDecode()} rewrites them with
 * {@code -Dsepta.fuzz.seeds.update=true}).
 */
class AccessLogEntryFuzzTest {
    private static final Path SEEDS = Path.of("src/test/resources/dev/septa/controlplane/graph/AccessLogEntryFuzzTestInputs/decode");
    private static final WorkloadRef DESTINATION = WorkloadRef.workload("shop", "payments-1", "payments");
    private static final AccessLogEntryReader READER = new AccessLogEntryReader(new MapDirectory(Map.of(),
            Map.of("spiffe://cluster.local/ns/shop/sa/checkout|10.0.0.2", WorkloadRef.workload("shop", "checkout-1", "checkout"))));

    static {
        READER.http(EnvoyEntries.allowed("spiffe://cluster.local/ns/shop/sa/checkout", "10.0.0.2", "shop/x"), DESTINATION); // warm-up
    }

    @FuzzTest(maxDuration = "30s")
    void decode(byte[] input) {
        if (input.length == 0) {
            return;
        }
        byte[] entry = java.util.Arrays.copyOfRange(input, 1, input.length);
        FuzzBounds.within(() -> {
            try {
                var observation = (input[0] & 1) == 0 ? READER.http(HTTPAccessLogEntry.parseFrom(entry), DESTINATION)
                        : READER.tcp(TCPAccessLogEntry.parseFrom(entry), DESTINATION);
                observation.ifPresent(o -> assertThat(o.port()).isPositive());
            } catch (InvalidProtocolBufferException refused) {
                // not an entry: the receiver counts it malformed
            }
            return null;
        });
    }

    @Test
    void seedsDecode() throws IOException {
        if (Boolean.getBoolean("septa.fuzz.seeds.update")) {
            Files.createDirectories(SEEDS);
            write("http-allowed", 0, EnvoyEntries.allowed("spiffe://cluster.local/ns/shop/sa/checkout", "10.0.0.2", "shop/checkout-may-pay").toByteArray());
            write("http-denied-by-default", 0, EnvoyEntries.deniedByDefault("spiffe://cluster.local/ns/shop/sa/storefront", "10.0.0.3",
                    "shop/default").toByteArray());
            write("tcp", 1, TCPAccessLogEntry.newBuilder().setCommonProperties(
                    EnvoyEntries.allowed("spiffe://cluster.local/ns/shop/sa/checkout", "10.0.0.2", "shop/x").getCommonProperties()).build().toByteArray());
        }
        try (var files = Files.list(SEEDS)) {
            for (Path seed : files.toList()) {
                byte[] input = Files.readAllBytes(seed);
                byte[] entry = java.util.Arrays.copyOfRange(input, 1, input.length);
                var observation = (input[0] & 1) == 0 ? READER.http(HTTPAccessLogEntry.parseFrom(entry), DESTINATION)
                        : READER.tcp(TCPAccessLogEntry.parseFrom(entry), DESTINATION);
                assertThat(observation).as(seed.toString()).isPresent();
            }
        }
    }

    private static void write(String name, int kind, byte[] entry) throws IOException {
        byte[] out = new byte[entry.length + 1];
        out[0] = (byte) kind;
        System.arraycopy(entry, 0, out, 1, entry.length);
        Files.write(SEEDS.resolve(name), out);
    }
}
