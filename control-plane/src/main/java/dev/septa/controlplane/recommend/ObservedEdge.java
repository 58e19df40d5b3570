package dev.septa.controlplane.recommend;

import dev.septa.controlplane.graph.GraphJson;

import java.util.ArrayList;
import java.util.List;

/**
 * One observed (source, destination, port) of the traffic graph with the verdict it got under the policy in force,
 * the intent that decided ({@code null} if unknown), the calls counted in the window and the requests sampled on it.
 *
 * @param requests the distinct requests sampled on the edge; empty when none was (TCP, or no path reported): the
 *                 edge then stands for a request of unknown method and path
 * @param samplesComplete false when the graph kept its maximum of samples, so other paths may have been called too
 */
public record ObservedEdge(String from, String to, int port, boolean allowed, String decidedBy, long calls,
                           List<Request> requests, boolean samplesComplete) {

    /** How many distinct requests the graph keeps per edge ({@code RequestSamples.MAX}); at this count some may be missing. */
    static final int GRAPH_SAMPLE_LIMIT = 8;

    public ObservedEdge {
        requests = List.copyOf(requests);
    }

    /** A sampled request; {@code method} is null when the log did not carry one. */
    public record Request(String method, String path) implements Comparable<Request> {
        /** Parses a graph sample, {@code METHOD /path} or {@code - /path}. */
        static Request parse(String sample) {
            int space = sample.indexOf(' ');
            if (space < 0) {
                return new Request(null, sample);
            }
            String method = sample.substring(0, space);
            return new Request(method.equals("-") ? null : method, sample.substring(space + 1));
        }

        @Override
        public int compareTo(Request o) {
            int c = String.valueOf(method).compareTo(String.valueOf(o.method));
            return c != 0 ? c : path.compareTo(o.path);
        }

        @Override
        public String toString() {
            return (method == null ? "-" : method) + " " + path;
        }
    }

    /** A call of this edge's pair with no request sampled: any method and path. */
    public ObservedEdge(String from, String to, int port, boolean allowed, long calls) {
        this(from, to, port, allowed, null, calls, List.of(), true);
    }

    public static ObservedEdge of(GraphJson.Edge e) {
        List<Request> requests = new ArrayList<>();
        e.samples().forEach(s -> requests.add(Request.parse(s)));
        return new ObservedEdge(e.source(), e.target(), e.port(), "ALLOW".equals(e.verdict()), e.decidedBy(), e.requests(),
                requests, e.samples().size() < GRAPH_SAMPLE_LIMIT);
    }

    public static List<ObservedEdge> of(GraphJson graph) {
        return graph.edges().stream().map(ObservedEdge::of).toList();
    }

    public String pair() {
        return from + " -> " + to + ":" + port;
    }
}
