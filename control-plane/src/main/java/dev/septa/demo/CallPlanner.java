package dev.septa.demo;

import dev.septa.policy.model.Intent;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.PortRule;
import dev.septa.policy.model.Service;
import dev.septa.policy.model.Workload;
import dev.septa.policy.model.WorkloadPort;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which calls each demo workload makes: every service port of the mesh that does not select the caller itself, on
 * the health check path and on every path the intents name for that port (a prefix {@code /shop.Catalog/*} becomes
 * {@code /shop.Catalog/List}, {@code /shop.Payments/Refund*} becomes {@code /shop.Payments/Refund}). So the demo
 * shows allowed and denied calls for every intent, and the e2e matrix covers every pair and port.
 */
public final class CallPlanner {
    public static final String HEALTH = "/grpc.health.v1.Health/Check";

    /** One call: the xDS target {@code NAME.NS:PORT} and the method path. */
    public record PlannedCall(Service service, int port, String path) {
        public String target() {
            return service.host() + ":" + port;
        }
    }

    private CallPlanner() {
    }

    /** The calls of every workload, keyed by workload id, in a stable order. */
    public static Map<String, List<PlannedCall>> plan(Mesh mesh) {
        Map<String, List<PlannedCall>> plan = new LinkedHashMap<>();
        for (Workload caller : mesh.workloads()) {
            List<PlannedCall> calls = new ArrayList<>();
            for (Service service : mesh.services()) {
                if (selects(service, caller) && backends(mesh, service).size() == 1) {
                    continue;
                }
                for (WorkloadPort port : service.ports()) {
                    for (String path : paths(mesh, service, port.port())) {
                        calls.add(new PlannedCall(service, port.port(), path));
                    }
                }
            }
            plan.put(caller.id(), List.copyOf(calls));
        }
        return plan;
    }

    /** The workloads a service's selector picks (its backends), in inventory order. */
    public static List<Workload> backends(Mesh mesh, Service service) {
        return mesh.workloads().stream().filter(w -> selects(service, w)).toList();
    }

    static boolean selects(Service service, Workload workload) {
        if (!service.metadata().namespace().equals(workload.metadata().namespace())) {
            return false;
        }
        return service.selector().entrySet().stream()
                .allMatch(e -> e.getValue().equals(workload.metadata().labels().get(e.getKey())));
    }

    static Set<String> paths(Mesh mesh, Service service, int port) {
        Set<String> paths = new TreeSet<>();
        paths.add(HEALTH);
        for (Intent intent : mesh.intents()) {
            if (!intent.metadata().namespace().equals(service.metadata().namespace()) || intent.to() == null) {
                continue;
            }
            if (!targets(mesh, intent, service)) {
                continue;
            }
            for (PortRule rule : intent.to().ports()) {
                if (rule.port() != port || rule.http() == null) {
                    continue;
                }
                for (String path : rule.http().paths()) {
                    paths.add(concrete(path));
                }
            }
        }
        if (paths.size() == 1) {
            String name = service.metadata().name();
            paths.add("/" + service.metadata().namespace() + "." + Character.toUpperCase(name.charAt(0)) + name.substring(1) + "/Get");
        }
        return paths;
    }

    /** Whether the intent's {@code to} segment selects a backend of the service. */
    static boolean targets(Mesh mesh, Intent intent, Service service) {
        if (intent.to().segment() == null) {
            return false;
        }
        return mesh.segments().stream().filter(s -> s.ref().equals(intent.to().segment())).findFirst()
                .map(segment -> backends(mesh, service).stream()
                        .anyMatch(w -> segment.selector().matches(w.metadata().labels())))
                .orElse(false);
    }

    static String concrete(String path) {
        if (!path.endsWith("*")) {
            return path;
        }
        String prefix = path.substring(0, path.length() - 1);
        if (HEALTH.startsWith(prefix)) {
            return HEALTH;
        }
        return prefix.endsWith("/") ? prefix + "List" : prefix;
    }
}
