package dev.septa.controlplane.graph;

import io.micronaut.http.sse.Event;
import org.reactivestreams.Publisher;

/**
 * More named events for the graph page's stream ({@code /api/graph/events}) beside the {@code graph} snapshots, e.g.
 * the findings' {@code finding} events. Each subscriber of the page's stream subscribes to every source's publisher;
 * a source must not block and should drop, rather than buffer, for a slow reader.
 */
public interface GraphEventSource {

    Publisher<Event<?>> events();
}
