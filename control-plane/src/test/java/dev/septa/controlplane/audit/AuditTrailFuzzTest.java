package dev.septa.controlplane.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.septa.cli.AuditCommand;
import dev.septa.policy.parse.FuzzBounds;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;

/**
 * Fuzzes what {@code septa audit} and {@code septa check --at} read from a state directory. The first byte picks the
 * file the rest becomes: (0) {@code audit/audit.log}, read and every record printed as {@code septa audit} does;
 * (1) a policy version object; (2) the version index, then asked for an instant. Each is read into records, or
 * refused as documented (a skipped line with its {@code FILE:LINE}, a {@link PolicyVersionStore.StoreException});
 * never another exception.
 */
class AuditTrailFuzzTest {
    private static final Path STATE;
    private static final String VERSION = "0123456789abcdef0123456789abcdef";

    static {
        try {
            STATE = Files.createTempDirectory("septa-audit-fuzz");
            Files.createDirectories(STATE.resolve(AuditLog.DIR));
            Files.createDirectories(STATE.resolve(PolicyVersionStore.DIR).resolve("objects"));
        } catch (IOException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void read(byte[] input) {
        if (input.length == 0) {
            return;
        }
        byte[] rest = Arrays.copyOfRange(input, 1, input.length);
        FuzzBounds.within(() -> {
            try {
                switch (input[0] % 3) {
                    case 0 -> {
                        Files.write(STATE.resolve(AuditLog.DIR).resolve(RotatingFileSink.FILE), rest);
                        AuditTrail.Result trail = AuditTrail.read(STATE.resolve(AuditLog.DIR));
                        for (AuditTrail.Entry e : trail.entries()) {
                            assertThat(AuditCommand.describe(e)).contains(e.kind());
                            e.concerns("shop/payments-1");
                        }
                        trail.problems().forEach(p -> assertThat(p.toString()).contains(RotatingFileSink.FILE + ":" + p.line() + ": "));
                    }
                    case 1 -> {
                        Files.write(STATE.resolve(PolicyVersionStore.DIR).resolve("objects").resolve(VERSION + ".json"), rest);
                        try {
                            PolicyVersionStore.in(STATE).files(VERSION);
                        } catch (PolicyVersionStore.StoreException refused) {
                            assertThat(refused.getMessage()).contains(VERSION);
                        }
                    }
                    default -> {
                        Files.write(STATE.resolve(PolicyVersionStore.DIR).resolve("index.jsonl"), rest);
                        try {
                            PolicyVersionStore.Entry e = PolicyVersionStore.in(STATE).inForceAt(Instant.parse("2026-12-01T10:00:00Z"));
                            assertThat(e.version()).isNotBlank();
                        } catch (PolicyVersionStore.StoreException refused) {
                            assertThat(refused.getMessage()).isNotBlank();
                        }
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return null;
        });
    }
}
