package dev.septa.policy.parse;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * The time bound every fuzz target holds each input to (memory is bounded by the fuzzing JVM's {@code -Xmx1g}, see
 * the {@code fuzz} profile): an input that takes longer is a finding, like an exception. Two seconds leaves room for
 * a loaded 2-core machine; unloaded, the slowest inputs take tens of milliseconds. Each target warms up once outside
 * the bound (class loading and initialisation, e.g. of the Envoy protos, took 20 s at a load average of 33), so that
 * the bound applies to what one input costs. The bound is on the CPU time of the thread that handles the input, not
 * on wall-clock time: at a load average of 45 an input that costs microseconds once waited 2.5 s for a core, which
 * says nothing about the input.
 */
public final class FuzzBounds {
    public static final Duration PER_INPUT = Duration.ofSeconds(2);
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private FuzzBounds() {
    }

    public static <T> T within(Supplier<T> work) {
        long start = THREADS.getCurrentThreadCpuTime();
        T result = work.get();
        long took = THREADS.getCurrentThreadCpuTime() - start;
        if (took > PER_INPUT.toNanos()) {
            throw new AssertionError("one input took " + took / 1_000_000 + " ms of CPU; the bound is " + PER_INPUT.toMillis() + " ms");
        }
        return result;
    }
}
