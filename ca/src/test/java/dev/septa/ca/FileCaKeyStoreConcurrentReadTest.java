package dev.septa.ca;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One process saves a store while another loads it (the CLI staging a successor, the control plane's rotation tick
 * reading it): every load sees a whole store, the old or the new, never "incomplete". Seen in the rotation e2e loop
 * (issue 16): the reader looked for a {@code .NAME.new} file the writer had just renamed into place.
 */
class FileCaKeyStoreConcurrentReadTest {
    @TempDir Path dir;

    @Test
    void aLoadDuringASaveSeesAWholeStore() throws Exception {
        CaConfig config = CaConfig.forTrustDomain("cluster.local");
        List<CaMaterial> versions = List.of(RootCaGenerator.generate(config, Clock.systemUTC()),
                RootCaGenerator.generate(config, Clock.systemUTC()));
        var writer = new FileCaKeyStore(dir.resolve("incoming"));
        var reader = new FileCaKeyStore(dir.resolve("incoming"));
        writer.save(versions.getFirst());
        AtomicBoolean stop = new AtomicBoolean();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        Thread saving = Thread.ofPlatform().start(() -> {
            for (int i = 0; !stop.get(); i++) {
                try {
                    writer.save(versions.get(i % 2));
                } catch (RuntimeException e) {
                    errors.add(e);
                }
            }
        });
        int loads = 0;
        long end = System.nanoTime() + 5_000_000_000L;
        try {
            while (System.nanoTime() < end) {
                CaMaterial loaded = reader.load().orElseThrow();
                assertThat(loaded.signingCertificate()).isIn(versions.get(0).signingCertificate(), versions.get(1).signingCertificate());
                loads++;
            }
        } finally {
            stop.set(true);
            saving.join();
        }
        System.out.println("concurrent CA store reads: " + loads + " loads during saves, all whole");
        assertThat(errors).isEmpty();
        assertThat(loads).isPositive();
    }
}
