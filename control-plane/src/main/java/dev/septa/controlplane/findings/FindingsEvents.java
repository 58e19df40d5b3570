package dev.septa.controlplane.findings;

import dev.septa.controlplane.graph.GraphEventSource;
import io.micronaut.http.sse.Event;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Sinks;

/**
 * Findings on the graph page's stream: a {@code finding} event (the {@link Finding}) when one is raised and at most
 * once a second while it is updated. Best effort: a subscriber that cannot keep up misses events (the page also
 * reads {@code /api/findings} at load, and the next update of a finding carries its totals).
 */
public final class FindingsEvents implements GraphEventSource, FindingsStore.Listener {
    private final Sinks.Many<Event<?>> sink = Sinks.many().multicast().directBestEffort();

    @Override
    public Publisher<Event<?>> events() {
        return sink.asFlux();
    }

    @Override
    public void raised(Finding f) {
        emit(f);
    }

    @Override
    public void updated(Finding f) {
        emit(f);
    }

    private void emit(Finding f) {
        // Serialized emission: listeners are called under the store's lock, so concurrent emits cannot happen.
        sink.tryEmitNext(Event.of((Object) f).name("finding"));
    }
}
