package dev.septa.controlplane.files;

import dev.septa.controlplane.source.MeshSource;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The file system's change events (inotify on Linux, through the JDK's {@link WatchService}) for the intents folder,
 * its subfolders and the inventory's folder: any event there calls {@code changed}, which makes the publisher read the
 * input at once instead of at its next poll. Events only say "look now"; what changed is still decided by reading
 * and hashing the files, so missed, merged or spurious events (editors that rename, an overflowing queue) cost at
 * most one poll interval, never a wrong configuration.
 */
final class FileWatch implements MeshSource.Watch {
    private static final Logger LOG = LoggerFactory.getLogger(FileWatch.class);
    private final WatchService service;
    private final Runnable changed;
    private final Thread thread;

    private FileWatch(WatchService service, Runnable changed) {
        this.service = service;
        this.changed = changed;
        this.thread = Thread.ofPlatform().daemon().name("septa-file-watch").unstarted(this::run);
    }

    /** Watches {@code tree} (with every folder under it) and {@code folders}; {@link MeshSource.Watch#NONE} when it cannot. */
    static MeshSource.Watch start(Path tree, List<Path> folders, Runnable changed) {
        try {
            WatchService service = (tree != null ? tree : folders.getFirst()).getFileSystem().newWatchService();
            var watch = new FileWatch(service, changed);
            if (tree != null) {
                watch.registerTree(tree);
            }
            for (Path folder : folders) {
                watch.register(folder);
            }
            watch.thread.start();
            return watch;
        } catch (IOException | RuntimeException e) {
            LOG.info("no file system events for {} ({}); polling only", tree, e.getMessage());
            return MeshSource.Watch.NONE;
        }
    }

    private void registerTree(Path tree) throws IOException {
        try (Stream<Path> walk = Files.walk(tree)) {
            for (Path dir : walk.filter(Files::isDirectory).toList()) {
                register(dir);
            }
        }
    }

    private void register(Path dir) throws IOException {
        dir.register(service, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                StandardWatchEventKinds.ENTRY_DELETE);
    }

    private void run() {
        try {
            while (true) {
                WatchKey key = service.take();
                for (WatchEvent<?> event : key.pollEvents()) {
                    if (event.kind() == StandardWatchEventKinds.ENTRY_CREATE && key.watchable() instanceof Path dir
                            && event.context() instanceof Path name && Files.isDirectory(dir.resolve(name))) {
                        try {
                            registerTree(dir.resolve(name)); // a new subfolder of intents: watch it too
                        } catch (IOException | RuntimeException e) {
                            LOG.debug("cannot watch {}: {}", dir.resolve(name), e.getMessage());
                        }
                    }
                }
                key.reset();
                changed.run();
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closed
        } catch (RuntimeException e) {
            LOG.warn("file watch stopped ({}); polling only", e.toString());
        }
    }

    @Override
    public boolean active() {
        return thread.isAlive();
    }

    @Override
    public void close() {
        try {
            service.close();
        } catch (IOException e) {
            // nothing left to release
        }
        thread.interrupt();
    }
}
