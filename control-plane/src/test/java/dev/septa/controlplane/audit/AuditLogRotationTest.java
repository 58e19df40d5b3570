package dev.septa.controlplane.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.controlplane.support.SeptaRun;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The audit file on its own: rotation keeps its bound, and a write cut by a crash leaves a readable log. */
class AuditLogRotationTest {
    @TempDir Path state;

    Path auditDir() {
        return state.resolve(AuditLog.DIR);
    }

    AuditLog log(long maxBytes, int keep) {
        return AuditLog.of(new RotatingFileSink(auditDir(), maxBytes, keep), null);
    }

    @Test
    void rotationBySizeKeepsTheBoundAndTheNewestRecordsInOrder() throws IOException {
        int records = 2_000;
        try (AuditLog log = log(4096, 3)) {
            for (int i = 0; i < records; i++) {
                log.quarantined("shop/payments-1", "record " + i, null, "test");
            }
            assertThat(log.awaitWritten(Duration.ofSeconds(30))).isTrue();
            assertThat(log.problem()).isEmpty();
        }
        List<Path> files = AuditTrail.files(auditDir());
        try (var all = Files.list(auditDir())) {
            assertThat(all.map(p -> p.getFileName().toString()).sorted().toList())
                    .containsExactly("audit.log", "audit.log.1", "audit.log.2", "audit.log.3");
        }
        for (Path f : files) {
            assertThat(Files.size(f)).as(f.toString()).isLessThanOrEqualTo(4096);
        }
        AuditTrail.Result trail = AuditTrail.read(auditDir());
        assertThat(trail.problems()).isEmpty();
        List<AuditTrail.Entry> kept = trail.entries();
        // The full rotated files hold about 3 x 4 KiB of ~120-byte lines: the newest ~100 records, contiguous, in order.
        assertThat(kept.size()).isBetween(80, 140);
        for (int i = 0; i < kept.size(); i++) {
            assertThat(kept.get(i).text("reason")).isEqualTo("record " + (records - kept.size() + i));
        }
        assertThat(kept.getLast().kind()).isEqualTo(AuditLog.QUARANTINE);
    }

    @Test
    void aWriteCutByACrashLeavesAReadableLogWhoseCutLineIsReportedAndSkipped() throws IOException {
        try (AuditLog log = log(1 << 20, 2)) {
            for (int i = 0; i < 10; i++) {
                log.quarantined("shop/payments-1", "record " + i, null, "test");
            }
            assertThat(log.awaitWritten(Duration.ofSeconds(30))).isTrue();
        }
        Path file = auditDir().resolve(RotatingFileSink.FILE);
        // A crash in the middle of the 10th line's write: the file ends 20 bytes into it, without a line break.
        List<String> lines = Files.readAllLines(file);
        long cut = Files.size(file) - lines.getLast().length() - 1 + 20;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(cut);
        }

        AuditTrail.Result trail = AuditTrail.read(auditDir());
        assertThat(trail.entries()).hasSize(9);
        assertThat(trail.problems()).singleElement().satisfies(p -> {
            assertThat(p.line()).isEqualTo(10);
            assertThat(p.toString()).startsWith(file + ":10: the last record is incomplete");
        });
        SeptaRun run = SeptaRun.of("audit", "--state-dir", state.toString());
        assertThat(run.exit()).isZero();
        assertThat(run.out().lines()).hasSize(9).allSatisfy(l -> assertThat(l).contains("quarantine").contains("shop/payments-1"));
        assertThat(run.err()).contains(file + ":10: the last record is incomplete");

        // The control plane starts again and appends: the cut line stays a line of its own, the new record is whole.
        try (AuditLog log = log(1 << 20, 2)) {
            log.released("shop/payments-1", "test");
            assertThat(log.awaitWritten(Duration.ofSeconds(30))).isTrue();
        }
        trail = AuditTrail.read(auditDir());
        assertThat(trail.entries()).hasSize(10);
        assertThat(trail.entries().getLast().kind()).isEqualTo(AuditLog.RELEASE);
        assertThat(trail.problems()).singleElement().satisfies(p -> {
            assertThat(p.line()).isEqualTo(10);
            assertThat(p.message()).startsWith("not a whole audit record");
        });
        assertThat(Files.readString(file, StandardCharsets.UTF_8)).endsWith("\n");
    }

    @Test
    void inKubernetesModeTheLinesGoToTheStream() {
        var out = new java.io.ByteArrayOutputStream();
        try (AuditLog log = AuditLog.toStream(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8),
                "standard output", state)) {
            log.quarantined("shop/payments-1", "probing", "forensics", "cli");
            log.released("shop/payments-1", "cli");
            assertThat(log.awaitWritten(Duration.ofSeconds(30))).isTrue();
        }
        List<String> lines = out.toString(java.nio.charset.StandardCharsets.UTF_8).lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(AuditTrail.parse(lines.get(0)).orElseThrow().json().toString())
                .contains("\"kind\":\"quarantine\",\"workload\":\"shop/payments-1\",\"reason\":\"probing\",\"allowFrom\":\"forensics\",\"actor\":\"cli\"");
        assertThat(AuditTrail.parse(lines.get(1)).orElseThrow().kind()).isEqualTo(AuditLog.RELEASE);
        assertThat(Files.exists(auditDir())).isFalse();
    }

    @Test
    void badOptionsAndAMissingLogAreBadInput() {
        SeptaRun none = SeptaRun.of("audit", "--state-dir", state.toString());
        assertThat(none.exit()).isEqualTo(2);
        assertThat(none.err()).contains("no audit log in " + auditDir());
        SeptaRun since = SeptaRun.of("audit", "--state-dir", state.toString(), "--since", "last tuesday");
        assertThat(since.exit()).isEqualTo(2);
        assertThat(since.err()).contains("--since must be an instant such as 2026-12-01T10:00:00Z");
        SeptaRun workload = SeptaRun.of("audit", "--state-dir", state.toString(), "--workload", "payments-1");
        assertThat(workload.exit()).isEqualTo(2);
        assertThat(workload.err()).contains("--workload must be NS/NAME, not 'payments-1'");
    }
}
