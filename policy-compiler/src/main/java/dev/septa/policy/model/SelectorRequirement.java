package dev.septa.policy.model;

import java.util.List;
import java.util.Map;

/** One {@code matchExpressions} entry, with Kubernetes label-selector semantics. */
public record SelectorRequirement(String key, Operator operator, List<String> values) {
    public enum Operator { In, NotIn, Exists, DoesNotExist }

    public SelectorRequirement {
        values = values == null ? List.of() : List.copyOf(values);
    }

    public boolean matches(Map<String, String> labels) {
        String value = labels.get(key);
        return switch (operator) {
            case In -> value != null && values.contains(value);
            case NotIn -> value == null || !values.contains(value);
            case Exists -> value != null;
            case DoesNotExist -> value == null;
        };
    }
}
