package dev.septa.policy.model;

/** One entry of an intent's {@code from}: a segment, or every mesh workload of a namespace. */
public sealed interface Peer {
    record SegmentPeer(SegmentRef segment) implements Peer { }

    record NamespacePeer(String namespace) implements Peer { }
}
