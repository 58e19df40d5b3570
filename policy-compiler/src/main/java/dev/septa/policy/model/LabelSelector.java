package dev.septa.policy.model;

import java.util.List;
import java.util.Map;

/** Kubernetes label selector: every matchLabels pair and every expression must hold. An empty selector selects everything. */
public record LabelSelector(Map<String, String> matchLabels, List<SelectorRequirement> matchExpressions) {
    public LabelSelector {
        matchLabels = matchLabels == null ? Map.of() : Map.copyOf(matchLabels);
        matchExpressions = matchExpressions == null ? List.of() : List.copyOf(matchExpressions);
    }

    public boolean matches(Map<String, String> labels) {
        for (var e : matchLabels.entrySet()) {
            if (!e.getValue().equals(labels.get(e.getKey()))) {
                return false;
            }
        }
        for (SelectorRequirement r : matchExpressions) {
            if (!r.matches(labels)) {
                return false;
            }
        }
        return true;
    }
}
