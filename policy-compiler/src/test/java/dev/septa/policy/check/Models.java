package dev.septa.policy.check;

import dev.septa.policy.model.Action;
import dev.septa.policy.model.HttpMatch;
import dev.septa.policy.model.Intent;
import dev.septa.policy.model.LabelSelector;
import dev.septa.policy.model.Mode;
import dev.septa.policy.model.ObjectMeta;
import dev.septa.policy.model.Peer;
import dev.septa.policy.model.PortRule;
import dev.septa.policy.model.Protocol;
import dev.septa.policy.model.Segment;
import dev.septa.policy.model.SegmentRef;
import dev.septa.policy.model.SelectorRequirement;
import dev.septa.policy.model.Source;
import dev.septa.policy.model.Target;
import dev.septa.policy.model.Workload;
import dev.septa.policy.model.WorkloadPort;
import java.util.List;
import java.util.Map;

/** Short constructors for model records in tests. */
final class Models {
    private Models() { }

    static Workload workload(String ns, String name, String sa, Map<String, String> labels, WorkloadPort... ports) {
        return new Workload(new ObjectMeta(name, ns, labels), sa, "127.0.0.1", List.of(ports), Source.UNKNOWN);
    }

    static WorkloadPort port(int port, Protocol protocol) {
        return new WorkloadPort(protocol.name().toLowerCase() + "-" + port, port, protocol);
    }

    static Segment segment(String ns, String name, Map<String, String> labels, SelectorRequirement... exprs) {
        return new Segment(new ObjectMeta(name, ns, Map.of()), new LabelSelector(labels, List.of(exprs)), Source.UNKNOWN);
    }

    static Peer fromSegment(String ns, String name) {
        return new Peer.SegmentPeer(new SegmentRef(ns, name));
    }

    static Peer fromNamespace(String ns) {
        return new Peer.NamespacePeer(ns);
    }

    static PortRule rule(int port, Protocol protocol, List<String> methods, List<String> paths) {
        return new PortRule(port, protocol, methods == null && paths == null ? null : new HttpMatch(methods, paths));
    }

    static Intent intent(String ns, String name, Action action, Mode mode, List<Peer> from, String toSegment,
                         PortRule... ports) {
        return new Intent(new ObjectMeta(name, ns, Map.of()), action, mode, from,
                new Target(new SegmentRef(ns, toSegment), List.of(ports)), Source.UNKNOWN);
    }
}
