package dev.septa.policy.model;

import java.util.List;

/** An intent's {@code to}: a segment of the intent's own namespace and the ports it covers (empty: every port). */
public record Target(SegmentRef segment, List<PortRule> ports) {
    public Target {
        ports = ports == null ? List.of() : List.copyOf(ports);
    }
}
