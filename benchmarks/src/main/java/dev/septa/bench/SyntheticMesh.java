package dev.septa.bench;

import dev.septa.policy.model.Action;
import dev.septa.policy.model.HttpMatch;
import dev.septa.policy.model.Intent;
import dev.septa.policy.model.LabelSelector;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.MeshConfig;
import dev.septa.policy.model.Mode;
import dev.septa.policy.model.ObjectMeta;
import dev.septa.policy.model.Peer;
import dev.septa.policy.model.PortRule;
import dev.septa.policy.model.Protocol;
import dev.septa.policy.model.Segment;
import dev.septa.policy.model.SegmentRef;
import dev.septa.policy.model.Service;
import dev.septa.policy.model.Source;
import dev.septa.policy.model.Target;
import dev.septa.policy.model.Workload;
import dev.septa.policy.model.WorkloadPort;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import dev.septa.policy.parse.InputFile;

/**
 * A deterministic, realistic-shaped mesh for benchmarks: namespaces of 20 apps with 10 replicas each (200
 * workloads per namespace), one segment and one service per app plus an "all" segment per namespace, and the
 * given number of intents: mostly same-namespace app-to-app Allows with gRPC paths, some cross-namespace and
 * namespace sources, every 10th a Deny, every 7th DryRun. One app in ten is a TCP database.
 */
public final class SyntheticMesh {
    static final int APPS = 20;
    static final int REPLICAS = 10;
    private static final Source SRC = new Source("synthetic", 1, 1);

    private SyntheticMesh() { }

    public static Mesh generate(int workloads, int intents) {
        return generate(workloads, intents, REPLICAS);
    }

    /** With {@code replicas = 1} every workload is its own app: no two proxies share a configuration (worst case). */
    public static Mesh generate(int workloads, int intents, int replicas) {
        Random random = new Random(42);
        int namespaces = Math.max(1, workloads / (APPS * replicas));
        List<Workload> ws = new ArrayList<>();
        List<Segment> segments = new ArrayList<>();
        List<Service> services = new ArrayList<>();
        int n = 0;
        for (int ns = 0; ns < namespaces; ns++) {
            String namespace = "ns-" + ns;
            segments.add(new Segment(new ObjectMeta("all", namespace, null), new LabelSelector(Map.of(), List.of()), SRC));
            for (int app = 0; app < APPS; app++) {
                String name = "app-" + app;
                WorkloadPort port = isDatabase(app) ? new WorkloadPort("pg", 5432, Protocol.TCP) : new WorkloadPort("grpc", 8443, Protocol.GRPC);
                segments.add(new Segment(new ObjectMeta(name, namespace, null), new LabelSelector(Map.of("app", name), List.of()), SRC));
                services.add(new Service(new ObjectMeta(name, namespace, null), Map.of("app", name), List.of(port), SRC));
                for (int r = 0; r < replicas && n < workloads; r++, n++) {
                    String address = "10." + (n >> 16 & 255) + "." + (n >> 8 & 255) + "." + (n & 255);
                    ws.add(new Workload(new ObjectMeta(name + "-" + r, namespace, Map.of("app", name, "replica", "r" + r)),
                            name, address, List.of(port, new WorkloadPort("metrics", 9090, Protocol.HTTP)), SRC));
                }
            }
        }
        List<Intent> is = new ArrayList<>();
        for (int i = 0; i < intents; i++) {
            String namespace = "ns-" + (i % namespaces);
            int toApp = random.nextInt(APPS);
            List<Peer> from = new ArrayList<>();
            from.add(new Peer.SegmentPeer(new SegmentRef(namespace, "app-" + random.nextInt(APPS))));
            if (i % 5 == 0) {
                from.add(new Peer.SegmentPeer(new SegmentRef("ns-" + random.nextInt(namespaces), "app-" + random.nextInt(APPS))));
            }
            if (i % 50 == 0) {
                from.add(new Peer.NamespacePeer("ns-" + random.nextInt(namespaces)));
            }
            PortRule rule = isDatabase(toApp)
                    ? new PortRule(5432, Protocol.TCP, null)
                    : new PortRule(8443, Protocol.GRPC, new HttpMatch(List.of("POST"), List.of("/svc" + toApp + ".Api/Method" + i, "/svc" + toApp + ".Read/*")));
            Action action = i % 10 == 9 ? Action.DENY : Action.ALLOW;
            Mode mode = i % 7 == 6 ? Mode.DRY_RUN : Mode.ENFORCE;
            is.add(new Intent(new ObjectMeta("intent-" + i, namespace, null), action, mode, from,
                    new Target(new SegmentRef(namespace, "app-" + toApp), List.of(rule)), SRC));
        }
        return new Mesh(MeshConfig.DEFAULT, segments, is, ws, services);
    }

    /** The same mesh as YAML files (one per namespace plus one for intents), for the parse benchmark. */
    public static List<InputFile> yaml(Mesh mesh) {
        Map<String, StringBuilder> files = new TreeMap<>();
        for (Segment s : mesh.segments()) {
            StringBuilder sb = files.computeIfAbsent(s.metadata().namespace() + ".yaml", k -> new StringBuilder());
            sb.append("---\napiVersion: septa.dev/v1alpha1\nkind: Segment\nmetadata: {name: ").append(s.metadata().name())
                    .append(", namespace: ").append(s.metadata().namespace()).append("}\nspec:\n  selector:\n    matchLabels: ")
                    .append(flow(s.selector().matchLabels())).append('\n');
        }
        for (Service svc : mesh.services()) {
            StringBuilder sb = files.computeIfAbsent(svc.metadata().namespace() + ".yaml", k -> new StringBuilder());
            sb.append("---\napiVersion: septa.dev/v1alpha1\nkind: Service\nmetadata: {name: ").append(svc.metadata().name())
                    .append(", namespace: ").append(svc.metadata().namespace()).append("}\nspec:\n  selector: ")
                    .append(flow(svc.selector())).append("\n  ports: ").append(ports(svc.ports())).append('\n');
        }
        for (Workload w : mesh.workloads()) {
            StringBuilder sb = files.computeIfAbsent(w.metadata().namespace() + ".yaml", k -> new StringBuilder());
            sb.append("---\napiVersion: septa.dev/v1alpha1\nkind: Workload\nmetadata: {name: ").append(w.metadata().name())
                    .append(", namespace: ").append(w.metadata().namespace()).append(", labels: ").append(flow(w.metadata().labels()))
                    .append("}\nspec:\n  serviceAccount: ").append(w.serviceAccount()).append("\n  address: ").append(w.address())
                    .append("\n  ports: ").append(ports(w.ports())).append('\n');
        }
        StringBuilder sb = files.computeIfAbsent("intents.yaml", k -> new StringBuilder());
        for (Intent i : mesh.intents()) {
            sb.append("---\napiVersion: septa.dev/v1alpha1\nkind: Intent\nmetadata: {name: ").append(i.metadata().name())
                    .append(", namespace: ").append(i.metadata().namespace()).append("}\nspec:\n  action: ")
                    .append(i.action() == Action.ALLOW ? "Allow" : "Deny").append("\n  mode: ")
                    .append(i.mode() == Mode.ENFORCE ? "Enforce" : "DryRun").append("\n  from:\n");
            for (Peer p : i.from()) {
                sb.append(switch (p) {
                    case Peer.SegmentPeer sp -> "    - segment: " + sp.segment() + "\n";
                    case Peer.NamespacePeer np -> "    - namespace: " + np.namespace() + "\n";
                });
            }
            sb.append("  to:\n    segment: ").append(i.to().segment().name()).append("\n    ports:\n");
            for (PortRule r : i.to().ports()) {
                sb.append("      - port: ").append(r.port()).append("\n        protocol: ").append(r.protocol()).append('\n');
                if (r.http() != null) {
                    sb.append("        http: {methods: ").append(r.http().methods()).append(", paths: ")
                            .append(r.http().paths().stream().map(x -> "\"" + x + "\"").toList()).append("}\n");
                }
            }
        }
        return files.entrySet().stream().map(e -> new InputFile(e.getKey(), e.getValue().toString())).toList();
    }

    private static String flow(Map<String, String> m) {
        StringBuilder sb = new StringBuilder("{");
        new TreeMap<>(m).forEach((k, v) -> sb.append(sb.length() > 1 ? ", " : "").append(k).append(": ").append(v));
        return sb.append('}').toString();
    }

    private static String ports(List<WorkloadPort> ports) {
        StringBuilder sb = new StringBuilder("[");
        for (WorkloadPort p : ports) {
            sb.append(sb.length() > 1 ? ", " : "").append("{name: ").append(p.name()).append(", port: ").append(p.port())
                    .append(", protocol: ").append(p.protocol()).append('}');
        }
        return sb.append(']').toString();
    }

    private static boolean isDatabase(int app) {
        return app % 10 == 3;
    }
}
