package dev.septa.policy.model;

/** A named group of workloads in one namespace, chosen by labels. */
public record Segment(ObjectMeta metadata, LabelSelector selector, Source source) {
    public SegmentRef ref() {
        return new SegmentRef(metadata.namespace(), metadata.name());
    }
}
