package dev.septa.controlplane.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/**
 * Puts bounds around a {@link ServiceAccountTokens} that asks the API server (TokenReview): any client that reaches
 * the xDS port can make the control plane review a token, so without bounds a flood of made-up tokens becomes a flood
 * of blocked threads and API server requests. Four bounds, each cheap:
 * <ul>
 * <li>reviews run on a small pool ({@code threads}, with a short queue); when both are full the call is refused at
 *     once instead of parking another gRPC thread;</li>
 * <li>one review per distinct token at a time: concurrent calls with the same token share the answer;</li>
 * <li>a rejected token is remembered for {@link Limits#rejectedFor} and an unreachable API server for
 *     {@link Limits#failedFor} (by SHA-256 of the token, never the token), so repeating a bad token costs nothing;</li>
 * <li>a token bucket ({@link Limits#perSecond}, burst {@link Limits#burst}) on reviews that reach the API server.</li>
 * </ul>
 * A refusal for load is a {@link ReviewException} ("retry shortly"; the stream ends UNAUTHENTICATED and the workload
 * retries), never remembered as a rejection of the token. Positive answers are cached by the reviewer it wraps
 * ({@link KubernetesTokenReviewer}). Thread-safe.
 */
public final class BoundedTokenReviewer implements ServiceAccountTokens, AutoCloseable {

    /** The bounds; {@link #DEFAULT} fits a cluster of a few thousand pods reconnecting at once (they retry). */
    public record Limits(int threads, int queue, double perSecond, int burst, Duration rejectedFor, Duration failedFor,
                         Duration timeout) {
        public static final Limits DEFAULT = new Limits(4, 64, 50, 100, Duration.ofSeconds(10), Duration.ofSeconds(1),
                Duration.ofSeconds(10));
    }

    private record Remembered(Optional<ServiceAccount> answer, String failure, long untilNanos) {}

    private static final int MAX_REMEMBERED = 50_000;

    private final ServiceAccountTokens reviewer;
    private final Limits limits;
    private final LongSupplier nanoTime;
    private final ThreadPoolExecutor pool;
    private final Map<String, CompletableFuture<Optional<ServiceAccount>>> inFlight = new ConcurrentHashMap<>();
    private final Map<String, Remembered> remembered = new ConcurrentHashMap<>();
    private double tokens;
    private long refilledAt;

    public BoundedTokenReviewer(ServiceAccountTokens reviewer, Limits limits) {
        this(reviewer, limits, System::nanoTime);
    }

    BoundedTokenReviewer(ServiceAccountTokens reviewer, Limits limits, LongSupplier nanoTime) {
        this.reviewer = reviewer;
        this.limits = limits;
        this.nanoTime = nanoTime;
        this.pool = new ThreadPoolExecutor(limits.threads(), limits.threads(), 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(limits.queue()), Thread.ofPlatform().daemon().name("septa-token-review-", 0).factory());
        this.pool.allowCoreThreadTimeOut(true);
        this.tokens = limits.burst();
        this.refilledAt = nanoTime.getAsLong();
    }

    @Override
    public Optional<ServiceAccount> review(String token) throws ReviewException {
        String key = sha256(token);
        long now = nanoTime.getAsLong();
        Remembered known = remembered.get(key);
        if (known != null && now - known.untilNanos() < 0) {
            if (known.failure() != null) {
                throw new ReviewException(known.failure(), null);
            }
            return known.answer();
        }
        CompletableFuture<Optional<ServiceAccount>> mine = new CompletableFuture<>();
        CompletableFuture<Optional<ServiceAccount>> shared = inFlight.putIfAbsent(key, mine);
        if (shared == null) {
            shared = mine;
            start(key, token, mine);
        }
        try {
            return shared.get(limits.timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ReviewException r) {
                throw r;
            }
            throw new ReviewException("token review failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new ReviewException("the token review did not finish within " + limits.timeout(), null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ReviewException("interrupted while reviewing the token", e);
        }
    }

    private void start(String key, String token, CompletableFuture<Optional<ServiceAccount>> result) {
        if (!takePermit()) {
            finish(key, result, null, new ReviewException("too many token reviews (more than " + limits.perSecond()
                    + "/s); retry shortly", null), false);
            return;
        }
        try {
            pool.execute(() -> {
                try {
                    finish(key, result, reviewer.review(token), null, true);
                } catch (ReviewException e) {
                    finish(key, result, null, e, true);
                } catch (RuntimeException e) {
                    finish(key, result, null, new ReviewException("token review failed: " + e, e), true);
                }
            });
        } catch (RejectedExecutionException e) {
            finish(key, result, null, new ReviewException("too many token reviews waiting; retry shortly", null), false);
        }
    }

    /** {@code remember}: whether the answer came from the reviewer (a load refusal says nothing about the token). */
    private void finish(String key, CompletableFuture<Optional<ServiceAccount>> result, Optional<ServiceAccount> answer,
                        ReviewException failure, boolean remember) {
        if (remember && (failure != null || answer.isEmpty())) {
            if (remembered.size() > MAX_REMEMBERED) {
                remembered.clear();
            }
            Duration keep = failure != null ? limits.failedFor() : limits.rejectedFor();
            remembered.put(key, new Remembered(Optional.empty(), failure == null ? null : failure.getMessage(),
                    nanoTime.getAsLong() + keep.toNanos()));
        }
        inFlight.remove(key, result);
        if (failure != null) {
            result.completeExceptionally(failure);
        } else {
            result.complete(answer);
        }
    }

    private synchronized boolean takePermit() {
        long now = nanoTime.getAsLong();
        tokens = Math.min(limits.burst(), tokens + (now - refilledAt) / 1e9 * limits.perSecond());
        refilledAt = now;
        if (tokens < 1) {
            return false;
        }
        tokens -= 1;
        return true;
    }

    private static String sha256(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
