package dev.septa.controlplane.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.septa.controlplane.source.SourceSnapshot;
import dev.septa.policy.parse.InputFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The policy versions kept for {@code septa check --at}: the version in force at an instant, and the bounds. */
class AuditPolicyVersionStoreTest {
    static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

    @TempDir Path state;

    static List<InputFile> files(int n) {
        return List.of(new InputFile("intents/a.yaml", "# version " + n + "\n"), new InputFile("intents/b.yaml", "same\n"));
    }

    static String apply(PolicyVersionStore store, Instant at, int n) throws Exception {
        String version = SourceSnapshot.contentHash(files(n));
        store.applied(at, version, files(n));
        return version;
    }

    @Test
    void answersTheVersionInForceAtAnInstantAndRefusesAnInstantBeforeTheOldestKept() throws Exception {
        PolicyVersionStore store = new PolicyVersionStore(state, 100, Duration.ofDays(30));
        String v1 = apply(store, T0, 1);
        String v2 = apply(store, T0.plusSeconds(3600), 2);
        String again = apply(store, T0.plusSeconds(7200), 1); // back to the first content: one object, a new entry
        assertThat(again).isEqualTo(v1);
        assertThat(store.inForceAt(T0).version()).isEqualTo(v1);
        assertThat(store.inForceAt(T0.plusSeconds(3599)).version()).isEqualTo(v1);
        assertThat(store.inForceAt(T0.plusSeconds(3600)).version()).isEqualTo(v2);
        assertThat(store.inForceAt(T0.plusSeconds(9000)).version()).isEqualTo(v1);
        assertThat(store.files(v2)).isEqualTo(files(2));
        try (var objects = Files.list(store.directory().resolve("objects"))) {
            assertThat(objects.count()).isEqualTo(2);
        }
        assertThatThrownBy(() -> store.inForceAt(T0.minusSeconds(1)))
                .hasMessageContaining("2026-12-01T09:59:59Z is before the oldest policy version kept (" + v1
                        + ", in force from 2026-12-01T10:00:00Z)").hasMessageContaining("keeps the last 100 versions and 30 days");
        // The same version applied again at a restart is no new entry.
        apply(store, T0.plusSeconds(8000), 1);
        assertThat(store.readIndex()).hasSize(3);
    }

    @Test
    void keepsAtMostTheCountAndDropsVersionsOutOfForceLongerThanTheAgeButNeverTheOneInForce() throws Exception {
        PolicyVersionStore store = new PolicyVersionStore(state, 5, Duration.ofDays(30));
        for (int i = 0; i < 12; i++) {
            apply(store, T0.plusSeconds(i * 60L), i);
        }
        assertThat(store.readIndex()).extracting(PolicyVersionStore.Entry::version)
                .containsExactly(SourceSnapshot.contentHash(files(7)), SourceSnapshot.contentHash(files(8)),
                        SourceSnapshot.contentHash(files(9)), SourceSnapshot.contentHash(files(10)), SourceSnapshot.contentHash(files(11)));
        try (var objects = Files.list(store.directory().resolve("objects"))) {
            assertThat(objects.count()).isEqualTo(5); // the others' objects were deleted
        }
        assertThatThrownBy(() -> store.inForceAt(T0.plusSeconds(6 * 60))).hasMessageContaining("is before the oldest policy version kept");

        // Sixty days on: every version out of force for more than 30 days goes, the one in force stays whatever its age.
        String late = apply(store, T0.plus(Duration.ofDays(60)), 99);
        assertThat(store.readIndex()).extracting(PolicyVersionStore.Entry::version)
                .containsExactly(SourceSnapshot.contentHash(files(11)), late);
        assertThat(store.inForceAt(T0.plus(Duration.ofDays(59))).version()).isEqualTo(SourceSnapshot.contentHash(files(11)));
    }

    @Test
    void aCutIndexLineIsIgnoredAndAChangedObjectIsRefused() throws Exception {
        PolicyVersionStore store = PolicyVersionStore.in(state);
        String v1 = apply(store, T0, 1);
        Path index = store.directory().resolve("index.jsonl");
        Files.writeString(index, "{\"at\":\"2026-12-01T11:00", StandardOpenOption.APPEND); // a crash mid-append
        assertThat(store.inForceAt(T0.plusSeconds(7200)).version()).isEqualTo(v1);
        String v2 = apply(store, T0.plusSeconds(7200), 2); // the next append starts on a line of its own
        assertThat(store.readIndex()).extracting(PolicyVersionStore.Entry::version).containsExactly(v1, v2);

        Path object = store.directory().resolve("objects").resolve(v2 + ".json");
        Files.writeString(object, Files.readString(object).replace("# version 2", "# version 3"));
        assertThatThrownBy(() -> store.files(v2)).hasMessageContaining(object + ": its content hashes to")
                .hasMessageContaining("not " + v2 + ": it was changed");
        Files.writeString(object, "{\"files\": [");
        assertThatThrownBy(() -> store.files(v2)).hasMessageContaining(object + ": not a policy version object");
        Files.delete(object);
        assertThatThrownBy(() -> store.files(v2)).hasMessageContaining("the files of version " + v2 + " are missing");
    }
}
