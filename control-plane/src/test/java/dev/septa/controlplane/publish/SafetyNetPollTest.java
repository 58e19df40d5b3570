package dev.septa.controlplane.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.septa.controlplane.files.LocalFileSource;
import dev.septa.controlplane.source.MeshSource;
import dev.septa.controlplane.source.SourceSnapshot;
import dev.septa.controlplane.support.LineCompilation;
import dev.septa.controlplane.xds.ProxyConfigCache;
import dev.septa.controlplane.xds.XdsEvents;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Behind a working file watch, the publisher's periodic poll reads no file while the input stays put (it compares
 * the files' stamps), and still finds an edit whose file system event was lost.
 */
class SafetyNetPollTest {
    @TempDir
    Path dir;

    /** Local files whose watch claims to work but never fires (every event lost); counts whole reads. */
    static final class LostEventsSource implements MeshSource {
        final LocalFileSource files;
        final AtomicInteger reads = new AtomicInteger();

        LostEventsSource(Path intents) {
            files = new LocalFileSource(intents, null);
        }

        @Override
        public SourceSnapshot read() throws SourceException {
            reads.incrementAndGet();
            return files.read();
        }

        @Override
        public String stamp() throws SourceException {
            return files.stamp();
        }

        @Override
        public boolean needsSettling() {
            return true;
        }

        @Override
        public Watch watch(Runnable changed) {
            return new Watch() {
                @Override
                public boolean active() {
                    return true;
                }

                @Override
                public void close() {
                }
            };
        }

        @Override
        public String describe() {
            return "test files";
        }
    }

    @Test
    void thePollReadsNothingWhileTheInputStaysAndFindsAnEditWithoutItsEvent() throws Exception {
        Path intents = Files.createDirectories(dir.resolve("intents"));
        Files.writeString(intents.resolve("mesh.yaml"), "workload shop/a a\nlistener shop/a inbound 15006\n");
        LostEventsSource source = new LostEventsSource(intents);
        MeshState state = new MeshState();
        try (ConfigPublisher publisher = new ConfigPublisher(source, new LineCompilation(), new ProxyConfigCache(XdsEvents.NONE),
                state, new ConfigPublisher.Listener() { }, Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofMillis(20))) {
            publisher.start();
            String first = state.status().appliedInput();
            assertThat(first).isNotNull();
            Thread.sleep(300); // the first periodic poll reads once: it has no stamps to compare yet
            int reads = source.reads.get();
            Thread.sleep(2_000); // eight polls at 250 ms
            assertThat(source.reads.get()).as("whole reads while nothing changed").isEqualTo(reads);

            Files.writeString(intents.resolve("mesh.yaml"), "workload shop/a a\nlistener shop/a inbound 15006\nlistener shop/a extra 15001\n");
            await().atMost(Duration.ofSeconds(30)).until(() -> !first.equals(state.status().appliedInput()));
        }
    }
}
