package dev.septa.policy.parse;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * The time bound every fuzz target holds each input to (memory is bounded by the fuzzing JVM's {@code -Xmx1g}, see
 * the {@code fuzz} profile): an input that takes longer is a finding, like an exception. Two seconds leaves room for
 * a loaded 2-core machine; unloaded, the slowest inputs take tens of milliseconds. Each target warms up once outside
 * the bound (class loading and initialisation, e.g. of the Envoy protos, took 20 s at a load average of 33), so that
 * the bound applies to what one input costs.
 */
public final class FuzzBounds {
    public static final Duration PER_INPUT = Duration.ofSeconds(2);

    private FuzzBounds() {
    }

    public static <T> T within(Supplier<T> work) {
        long start = System.nanoTime();
        T result = work.get();
        long took = System.nanoTime() - start;
        if (took > PER_INPUT.toNanos()) {
            throw new AssertionError("one input took " + took / 1_000_000 + " ms; the bound is " + PER_INPUT.toMillis() + " ms");
        }
        return result;
    }
}
