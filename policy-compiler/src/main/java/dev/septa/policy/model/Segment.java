package dev.septa.policy.model;

import java.util.List;

/**
 * A named group of workloads in one namespace, chosen by labels.
 *
 * @param egress the Services its members are routed to under {@code defaultAction: Allow} (beside those their Allow
 *               intents name); null when the Segment does not scope egress (docs/decisions/0008-egress-scoping.md)
 */
public record Segment(ObjectMeta metadata, LabelSelector selector, List<EgressRule> egress, Source source) {
    public Segment {
        egress = egress == null ? null : List.copyOf(egress);
    }

    /** A Segment that does not scope egress. */
    public Segment(ObjectMeta metadata, LabelSelector selector, Source source) {
        this(metadata, selector, null, source);
    }

    public SegmentRef ref() {
        return new SegmentRef(metadata.namespace(), metadata.name());
    }
}
