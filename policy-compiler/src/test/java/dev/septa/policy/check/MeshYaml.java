package dev.septa.policy.check;

import dev.septa.policy.model.Intent;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.Peer;
import dev.septa.policy.model.PortRule;
import dev.septa.policy.model.Segment;
import dev.septa.policy.model.SelectorRequirement;
import dev.septa.policy.model.Workload;
import dev.septa.policy.model.WorkloadPort;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** Prints a model mesh in Septa's YAML (docs/architecture.md, the model), so that a failing generated case can be read and replayed. */
public final class MeshYaml {
    private MeshYaml() { }

    public static String print(Mesh mesh) {
        var out = new StringBuilder();
        var c = mesh.config();
        out.append("apiVersion: septa.dev/v1alpha1\nkind: MeshConfig\nmetadata: {name: mesh}\nspec: {trustDomain: ")
                .append(c.trustDomain()).append(", defaultAction: ").append(title(c.defaultAction().name()))
                .append(", mtls: ").append(title(c.mtls().name()))
                .append("}\n");
        for (Segment s : mesh.segments()) {
            out.append("---\napiVersion: septa.dev/v1alpha1\nkind: Segment\nmetadata: ").append(meta(s.metadata().name(),
                    s.metadata().namespace(), Map.of())).append("\nspec:\n  selector:\n    matchLabels: ")
                    .append(map(s.selector().matchLabels())).append("\n    matchExpressions: [");
            out.append(s.selector().matchExpressions().stream().map(MeshYaml::expr).collect(Collectors.joining(", ")));
            out.append("]\n");
        }
        for (Intent i : mesh.intents()) {
            out.append("---\napiVersion: septa.dev/v1alpha1\nkind: Intent\nmetadata: ")
                    .append(meta(i.metadata().name(), i.metadata().namespace(), Map.of()))
                    .append("\nspec:\n  action: ").append(title(i.action().name()))
                    .append("\n  mode: ").append(i.mode().name().equals("DRY_RUN") ? "DryRun" : "Enforce")
                    .append("\n  from:\n");
            for (Peer p : i.from()) {
                switch (p) {
                    // A segment of the intent's own namespace is written by its bare name, as users do.
                    case Peer.SegmentPeer sp -> out.append("    - segment: ")
                            .append(sp.segment().namespace().equals(i.metadata().namespace()) ? sp.segment().name()
                                    : sp.segment().toString()).append('\n');
                    case Peer.NamespacePeer np -> out.append("    - namespace: ").append(np.namespace()).append('\n');
                }
            }
            out.append("  to:\n    segment: ").append(i.to().segment().name()).append('\n');
            if (!i.to().ports().isEmpty()) {
                out.append("    ports:\n");
                for (PortRule r : i.to().ports()) {
                    out.append("      - {port: ").append(r.port());
                    if (r.protocol() != null) {
                        out.append(", protocol: ").append(r.protocol());
                    }
                    if (r.http() != null) {
                        out.append(", http: {methods: ").append(r.http().methods()).append(", paths: [")
                                .append(r.http().paths().stream().map(x -> "\"" + x + "\"")
                                        .collect(Collectors.joining(", "))).append("]}");
                    }
                    out.append("}\n");
                }
            }
        }
        for (Workload w : mesh.workloads()) {
            out.append("---\napiVersion: septa.dev/v1alpha1\nkind: Workload\nmetadata: ")
                    .append(meta(w.metadata().name(), w.metadata().namespace(), w.metadata().labels()))
                    .append("\nspec: {serviceAccount: ").append(w.serviceAccount()).append(", address: ")
                    .append(w.address()).append(", ports: [");
            out.append(w.ports().stream().map(MeshYaml::port).collect(Collectors.joining(", "))).append("]}\n");
        }
        return out.toString();
    }

    private static String port(WorkloadPort p) {
        return "{name: " + p.name() + ", port: " + p.port() + (p.protocolGiven() ? ", protocol: " + p.protocol() : "") + "}";
    }

    private static String expr(SelectorRequirement r) {
        return "{key: " + r.key() + ", operator: " + r.operator() + (r.values().isEmpty() ? "" : ", values: " + r.values())
                + "}";
    }

    private static String meta(String name, String ns, Map<String, String> labels) {
        return "{name: " + name + ", namespace: " + ns + (labels.isEmpty() ? "" : ", labels: " + map(labels)) + "}";
    }

    private static String map(Map<String, String> m) {
        return new TreeMap<>(m).entrySet().stream().map(e -> e.getKey() + ": " + e.getValue())
                .collect(Collectors.joining(", ", "{", "}"));
    }

    private static String title(String s) {
        return s.charAt(0) + s.substring(1).toLowerCase();
    }
}
