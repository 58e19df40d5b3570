package dev.septa.controlplane.recommend;

import dev.septa.controlplane.graph.GraphJson;

/** One observed (source, destination, port) of the traffic graph, with the verdict it got under the policy in force. */
public record ObservedEdge(String from, String to, int port, boolean allowed) {

    public static ObservedEdge of(GraphJson.Edge e) {
        return new ObservedEdge(e.source(), e.target(), e.port(), "ALLOW".equals(e.verdict()));
    }
}
