package dev.septa.controlplane.graph;

/**
 * Told of every call the graph is given, before the graph's own edge cap applies, so that what listens (findings,
 * Prometheus request counters) sees the traffic the graph may have to drop. Called on the receiving thread: an
 * implementation must be quick, thread-safe and bounded in memory, and must not throw.
 */
@FunctionalInterface
public interface ObservationListener {

    /** {@code weight} calls that share everything in {@code o}, received at {@code atMillis} (epoch millis). */
    void observed(Observation o, long weight, long atMillis);
}
