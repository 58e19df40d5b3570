package dev.septa.controlplane.graph;

import java.util.ArrayList;
import java.util.List;

/**
 * The first few distinct requests ({@code METHOD /path}, query string dropped) of an edge, so that
 * {@code septa check --impact} can evaluate a proposed policy on what was really called: an edge alone says
 * nothing about the paths that path-scoped intents decide on. Bounded ({@link #MAX}); later new paths are not kept.
 */
final class RequestSamples {
    static final int MAX = 8;

    private final List<String> samples = new ArrayList<>(2);

    void add(String method, String path) {
        if (path == null || path.isEmpty()) {
            return;
        }
        int q = path.indexOf('?');
        String sample = (method == null || method.isEmpty() ? "-" : method) + " " + (q >= 0 ? path.substring(0, q) : path);
        synchronized (samples) {
            if (samples.size() < MAX && !samples.contains(sample)) {
                samples.add(sample);
            }
        }
    }

    List<String> list() {
        synchronized (samples) {
            return List.copyOf(samples);
        }
    }
}
