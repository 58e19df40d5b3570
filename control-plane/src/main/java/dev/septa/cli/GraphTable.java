package dev.septa.cli;

import dev.septa.controlplane.graph.GraphJson;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The terminal rendering of {@link GraphJson}: one line per edge, busiest first, then what was shed or refused. */
final class GraphTable {
    private GraphTable() {
    }

    static String render(GraphJson g) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[]{"FROM", "TO", "PORT", "VERDICT", "REQ/S", "REQUESTS", "DECIDED BY", "DRYRUN WOULD DENY"});
        g.edges().stream()
                .sorted(Comparator.comparingDouble(GraphJson.Edge::ratePerSecond).reversed()
                        .thenComparing(GraphJson.Edge::requests, Comparator.reverseOrder())
                        .thenComparing(GraphJson.Edge::id))
                .forEach(e -> rows.add(new String[]{e.source(), e.target(), Integer.toString(e.port()), e.verdict(),
                        String.format(java.util.Locale.ROOT, "%.2f", e.ratePerSecond()), Long.toString(e.requests()),
                        e.decidedBy() == null ? "?" : e.decidedBy(), e.wouldDenyBy() == null ? "-" : e.wouldDenyBy()}));
        int[] width = new int[rows.getFirst().length];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        long denied = g.edges().stream().filter(e -> e.verdict().equals("DENY")).count();
        sb.append(g.nodes().size()).append(" workloads, ").append(g.edges().size()).append(" edges (").append(denied)
                .append(" denied), last ").append(g.windowSeconds() / 60).append(" min, at ").append(g.generatedAt()).append('\n');
        if (g.edges().isEmpty()) {
            sb.append("no traffic observed in the window\n");
        } else {
            for (String[] r : rows) {
                for (int i = 0; i < r.length; i++) {
                    sb.append(i == r.length - 1 ? r[i] : pad(r[i], width[i] + 2));
                }
                sb.append('\n');
            }
        }
        var c = g.counters();
        if (c.shed() > 0) {
            sb.append("note: ").append(c.shed()).append(" access-log entries were shed by the flood guard; counts are lower bounds\n");
        }
        if (c.droppedEdgeCap() > 0) {
            sb.append("note: ").append(c.droppedEdgeCap()).append(" calls were dropped at the edge cap\n");
        }
        if (c.refusedMessages() + c.malformedEntries() > 0) {
            sb.append("note: ").append(c.refusedMessages()).append(" access-log messages and ").append(c.malformedEntries())
                    .append(" entries were refused as malformed\n");
        }
        return sb.toString();
    }

    private static String pad(String s, int n) {
        return s.length() >= n ? s : s + " ".repeat(n - s.length());
    }
}
