package dev.septa.controlplane.publish;

import dev.septa.controlplane.source.MeshSource;
import dev.septa.controlplane.source.SourceSnapshot;
import dev.septa.controlplane.xds.ProxyConfigCache;
import dev.septa.controlplane.xds.ProxySnapshot;
import dev.septa.controlplane.xds.PublishedConfig;
import dev.septa.policy.compile.CompileResult;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.model.Diagnostic;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place configuration changes: watches and polls the source, and after a debounced change reads, compiles
 * and publishes. A compile with errors is reported and dropped whole; the last good configuration stays in force.
 * Everything runs on one thread, so compiles never overlap and publishes stay in order.
 *
 * <p>Input that is still being written is never published: a source that {@linkplain MeshSource#needsSettling()
 * needs settling} (files) is compiled only once its content has stayed the same for the quiet period, however
 * long the debouncer's maximum delay, and a read that caught a file mid-change is skipped and retried. A policy
 * file read half-written could otherwise lose its Deny intents for a moment and open access.
 */
public final class ConfigPublisher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigPublisher.class);

    /** Metrics and follow-up hooks, called on the publisher thread. */
    public interface Listener {
        default void compiled(CompileStatus status, Duration took) {}

        default void applied(CompiledMesh mesh, int distinctSnapshots) {}

        /**
         * The input about to be put in force and the compiled mesh from it, just before it is published (so that the
         * audit log names the version before any proxy is sent it). Must not block: the audit log queues. Asking the
         * mesh's proxies for their resources would emit them: use {@link dev.septa.policy.compile.CompiledProxy#configurationIdentity()}.
         */
        default void applying(SourceSnapshot input, CompiledMesh mesh) {}
    }

    private final MeshSource source;
    private final MeshCompilation compilation;
    private final ProxyConfigCache cache;
    private final MeshState state;
    private final Listener listener;
    private final Duration pollInterval;
    private final ScheduledExecutorService executor =
            Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("septa-publisher").factory());
    private final Debouncer debouncer;
    private final SnapshotAssembler assembler = new SnapshotAssembler();
    private final long quietNanos;
    private String lastSeenRevision;
    private long lastChangeNanos;
    private long waitingSince; // nanoTime when the publisher began to wait for the input to settle, 0 when not
    private String lastCompiledHash;
    private final java.util.concurrent.atomic.AtomicBoolean pollQueued = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile MeshSource.Watch watch = MeshSource.Watch.NONE;
    /** The poll behind a working file watch: a safety net for events the file system did not deliver. */
    static final Duration WATCHED_POLL_INTERVAL = Duration.ofMillis(250);
    /** Behind a working watch, every this many polls read the input whole even when its stamps stayed put (~10 s). */
    static final int FULL_READ_EVERY = 40;
    private String lastSeenStamp;
    private int pollsOnStamps;

    public ConfigPublisher(MeshSource source, MeshCompilation compilation, ProxyConfigCache cache, MeshState state,
                           Listener listener, Duration quiet, Duration maxDelay, Duration pollInterval) {
        this.source = source;
        this.compilation = compilation;
        this.cache = cache;
        this.state = state;
        this.listener = listener;
        this.pollInterval = pollInterval;
        this.quietNanos = quiet.toNanos();
        this.debouncer = new Debouncer(executor, quiet, maxDelay, this::recompute);
    }

    /** Compiles the input once (so the server starts with configuration in place), then watches for changes. */
    public void start() {
        try {
            executor.submit(() -> {
                poll(false);
                lastChangeNanos = System.nanoTime() - quietNanos; // the start's input counts as settled if read whole
                recompute(System.nanoTime());
            }).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            throw new IllegalStateException("initial compile failed", e.getCause());
        }
        // Events make the publisher look at once; the poll stays, slower while events arrive, as the guarantee.
        watch = source.watch(this::pollSoon);
        long ms = Math.max(1, watch.active() ? Math.max(pollInterval.toMillis(), WATCHED_POLL_INTERVAL.toMillis()) : pollInterval.toMillis());
        executor.scheduleWithFixedDelay(this::periodicPoll, ms, ms, TimeUnit.MILLISECONDS);
    }

    /**
     * The safety net behind a working watch looks at the input's {@linkplain MeshSource#stamp() stamps} (a listing and
     * a stat per file) and reads and hashes every file only when they moved, or every {@link #FULL_READ_EVERY} polls
     * (a rewrite that kept size and modification time, and whose event was lost). Reading and hashing a 10,000-workload
     * inventory four times a second cost CPU while nothing changed. Without a watch every poll reads everything.
     */
    private void periodicPoll() {
        if (watch.active()) {
            try {
                String stamp = source.stamp();
                if (stamp.equals(lastSeenStamp) && ++pollsOnStamps < FULL_READ_EVERY) {
                    return;
                }
                lastSeenStamp = stamp;
            } catch (MeshSource.SourceException | RuntimeException e) {
                lastSeenStamp = null; // the full read below reports it as it always did
            }
            pollsOnStamps = 0;
        }
        poll(true);
    }

    /** A change event: one poll on the publisher thread, however many events arrive before it runs. */
    private void pollSoon() {
        if (pollQueued.compareAndSet(false, true)) {
            try {
                executor.execute(() -> {
                    pollQueued.set(false);
                    poll(true);
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                pollQueued.set(false); // closed
            }
        }
    }

    /** Signals a change from outside the poller (a Kubernetes watch, a test). */
    public void changed() {
        debouncer.signal();
    }

    private void poll(boolean signal) {
        try {
            String revision = source.read().revision();
            if (!revision.equals(lastSeenRevision)) {
                lastSeenRevision = revision;
                lastChangeNanos = System.nanoTime();
                if (signal) {
                    debouncer.signal();
                }
            }
        } catch (MeshSource.InputChangingException e) {
            lastSeenRevision = "changing";
            lastChangeNanos = System.nanoTime();
            if (signal) {
                debouncer.signal();
            }
        } catch (MeshSource.SourceException e) {
            if (!"unreadable".equals(lastSeenRevision)) {
                lastSeenRevision = "unreadable";
                if (signal) {
                    debouncer.signal();
                }
            }
        } catch (RuntimeException e) {
            LOG.error("polling {} failed", source.describe(), e);
        }
    }

    private void recompute(long changeNanos) {
        long started = System.nanoTime();
        try {
            SourceSnapshot input;
            try {
                input = source.read();
            } catch (MeshSource.InputChangingException e) {
                waitForSettling(e.file() + " " + e.getMessage());
                lastSeenRevision = "changing";
                lastChangeNanos = System.nanoTime();
                debouncer.retry(changeNanos);
                return;
            } catch (MeshSource.SourceException e) {
                lastCompiledHash = null; // whatever comes back next must be compiled and reported afresh
                reject(List.of(e.file() + ": error: " + e.getMessage()), List.of(), started);
                return;
            }
            if (source.needsSettling() && !settled(input.revision())) {
                waitForSettling("the input is still changing");
                debouncer.retry(changeNanos);
                return;
            }
            if (waitingSince != 0) {
                LOG.info("input settled after {} ms", (System.nanoTime() - waitingSince) / 1_000_000);
                waitingSince = 0;
            }
            if (input.contentHash().equals(lastCompiledHash)) {
                return; // e.g. an edit that was undone within the quiet period
            }
            lastCompiledHash = input.contentHash();
            CompileResult result = compilation.compile(input.files());
            long compiled = System.nanoTime();
            List<String> errors = result.diagnostics().stream().filter(Diagnostic::isError).map(Diagnostic::toString).toList();
            List<String> warnings = result.diagnostics().stream().filter(d -> !d.isError()).map(Diagnostic::toString).toList();
            if (result.hasErrors() || result.mesh().isEmpty()) {
                reject(errors.isEmpty() ? List.of("compile produced no configuration") : errors, warnings, started);
                return;
            }
            CompiledMesh mesh = result.mesh().get();
            // Only the (node, dialect) pairs connected now are assembled (and so emitted); a node that connects later
            // has its snapshot assembled when it binds, and the cache assembles any it finds missing at publish.
            PublishedConfig snapshots = assembler.assemble(mesh, cache.connectedKeys());
            long assembled = System.nanoTime();
            CompileStatus status = new CompileStatus(true, Instant.now(), List.of(), warnings, input.contentHash(), Instant.now());
            listener.applying(input, mesh); // first: once the status names the version, its audit record is queued
            state.applied(mesh.mesh(), status);
            cache.publish(snapshots, changeNanos, input.contentHash());
            int distinct = (int) snapshots.assembledSoFar().values().stream().map(ProxySnapshot::key).distinct().count();
            LOG.info("applied configuration {} (compile {} ms{}, snapshots {} ms: {} built, {} reused, publish {} ms): "
                            + "{} proxies, {} distinct snapshots{}",
                    input.contentHash(), (compiled - started) / 1_000_000, compileDetail(), (assembled - compiled) / 1_000_000,
                    assembler.built(), assembler.reused(), (System.nanoTime() - assembled) / 1_000_000, mesh.proxies().size(), distinct,
                    warnings.isEmpty() ? "" : ", " + warnings.size() + " warnings");
            warnings.forEach(w -> LOG.warn("{}", w));
            listener.compiled(status, Duration.ofNanos(System.nanoTime() - started));
            listener.applied(mesh, distinct);
        } catch (Throwable e) {
            // No throwable may vanish into the executor's future: the status must say the compile failed, and the
            // last good configuration stays. The stack and the compile's garbage are released once it unwinds here.
            LOG.error("compiling {} failed unexpectedly; the last good configuration stays in force", source.describe(), e);
            reject(List.of("internal error: " + e), List.of(), started);
        }
    }

    private void waitForSettling(String why) {
        if (waitingSince == 0) {
            waitingSince = System.nanoTime();
            LOG.info("{}; nothing is published until it has stayed the same for {} ms", why, quietNanos / 1_000_000);
        }
    }

    /** Whether {@code revision} is what the source has held, unrewritten, for at least the quiet period. */
    private boolean settled(String revision) {
        long now = System.nanoTime();
        if (!revision.equals(lastSeenRevision)) {
            lastSeenRevision = revision;
            lastChangeNanos = now;
        }
        return now - lastChangeNanos >= quietNanos;
    }

    private String compileDetail() {
        return compilation.lastCompileDetail();
    }

    private void reject(List<String> errors, List<String> warnings, long started) {
        CompileStatus previous = state.status();
        CompileStatus status = new CompileStatus(false, Instant.now(), errors, warnings,
                previous.appliedInput(), previous.appliedAt());
        state.rejected(status);
        LOG.warn("configuration rejected ({} errors); {}", errors.size(),
                previous.appliedAt() == null ? "no configuration in force yet" : "the last good configuration stays in force");
        errors.forEach(e -> LOG.warn("{}", e));
        listener.compiled(status, Duration.ofNanos(System.nanoTime() - started));
    }

    @Override
    public void close() {
        watch.close();
        executor.shutdownNow();
    }
}
