package dev.septa.controlplane.kubernetes;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.septa.policy.parse.InputFile;
import dev.septa.sidecar.inject.PodInjector;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Turns Kubernetes objects into the YAML documents the compiler's parser already reads, one {@link InputFile} per
 * object, named {@code k8s:NS/KIND/NAME} ({@code k8s:KIND/NAME} when cluster-scoped) so that a diagnostic points at
 * the object and the incremental compiler re-parses only the objects that changed.
 *
 * <p>Custom resources keep {@code apiVersion}, {@code kind}, {@code spec} and of their metadata only {@code name},
 * {@code namespace} and {@code labels} (server fields, annotations and {@code status} are not the policy). Pods become
 * {@code Workload}s and Services become {@code Service}s. Septa's model has one number per service port, the port its
 * members' proxies enforce on, so a Service port is rendered with its target port (a named target port is resolved
 * against the container ports of the pods it selects).
 */
public final class KubernetesObjectRenderer {
    public static final String API_VERSION = "septa.dev/v1alpha1";
    /** Container names the injector adds; their ports are the proxy's, not the workload's. */
    private static final String INJECTED_PREFIX = "septa-";

    // Every string value double-quoted: label values such as "1e3", "true" or "null" must reach the parser as strings.
    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .disable(YAMLGenerator.Feature.SPLIT_LINES).build());

    private KubernetesObjectRenderer() {}

    /** {@code k8s:shop/Intent/checkout-may-charge}, {@code k8s:MeshConfig/mesh}. */
    public static String fileName(String namespace, String kind, String name) {
        return "k8s:" + (namespace == null || namespace.isEmpty() ? "" : namespace + "/") + kind + "/" + name;
    }

    /** A Segment, Intent or MeshConfig as the parser reads it from a file. */
    public static InputFile customResource(GenericKubernetesResource r) {
        String kind = r.getKind();
        String namespace = r.getMetadata().getNamespace();
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("apiVersion", r.getApiVersion());
        doc.put("kind", kind);
        doc.put("metadata", metadata(r.getMetadata().getName(), namespace, r.getMetadata().getLabels()));
        Object spec = r.getAdditionalProperties().get("spec");
        if (spec != null) {
            doc.put("spec", spec);
        }
        return new InputFile(fileName(namespace, kind, r.getMetadata().getName()), yaml(doc));
    }

    /**
     * Whether a pod is a workload of the mesh: injected (it carries the injector's status annotation, so a proxy or
     * agent exists to receive its configuration), running or about to (not Succeeded/Failed), with an IP, not hostNetwork.
     */
    public static boolean isMeshWorkload(Pod pod) {
        Map<String, String> annotations = pod.getMetadata().getAnnotations();
        if (annotations == null || !annotations.containsKey(PodInjector.STATUS_ANNOTATION)) {
            return false;
        }
        if (pod.getSpec() == null || Boolean.TRUE.equals(pod.getSpec().getHostNetwork())) {
            return false;
        }
        if (pod.getMetadata().getDeletionTimestamp() != null) {
            return false; // terminating: peers should stop sending to it now
        }
        var status = pod.getStatus();
        if (status == null || status.getPodIP() == null || status.getPodIP().isEmpty()) {
            return false;
        }
        String phase = status.getPhase();
        return !"Succeeded".equals(phase) && !"Failed".equals(phase);
    }

    /** A pod as a {@code Workload}: labels, service account, pod IP, the TCP ports of its app containers. */
    public static InputFile workload(Pod pod) {
        String namespace = pod.getMetadata().getNamespace();
        String name = pod.getMetadata().getName();
        Map<String, Object> spec = new LinkedHashMap<>();
        String sa = pod.getSpec().getServiceAccountName();
        spec.put("serviceAccount", sa == null || sa.isEmpty() ? "default" : sa);
        spec.put("address", pod.getStatus().getPodIP());
        List<Map<String, Object>> ports = new ArrayList<>();
        Set<Integer> seen = new HashSet<>();
        for (Container c : appContainers(pod)) {
            for (ContainerPort p : c.getPorts() == null ? List.<ContainerPort>of() : c.getPorts()) {
                if (p.getContainerPort() == null || !isTcp(p.getProtocol()) || !seen.add(p.getContainerPort())) {
                    continue;
                }
                ports.add(port(p.getName(), p.getContainerPort(), protocolOf(p.getName(), null)));
            }
        }
        if (!ports.isEmpty()) {
            spec.put("ports", ports);
        }
        Map<String, Object> doc = document("Workload", metadata(name, namespace, pod.getMetadata().getLabels()), spec);
        return new InputFile(fileName(namespace, "Pod", name), yaml(doc));
    }

    /**
     * A Service with a selector as a {@code Service}; empty when it has none (no selector means endpoints managed by
     * hand, which Septa does not read) or is of type ExternalName.
     */
    public static Optional<InputFile> service(Service service, List<Pod> podsOfNamespace) {
        var s = service.getSpec();
        if (s == null || s.getSelector() == null || s.getSelector().isEmpty() || "ExternalName".equals(s.getType())) {
            return Optional.empty();
        }
        Map<String, String> selector = s.getSelector();
        List<Pod> members = podsOfNamespace.stream().filter(p -> matches(selector, p.getMetadata().getLabels())).toList();
        List<Map<String, Object>> ports = new ArrayList<>();
        Set<Integer> seen = new HashSet<>();
        for (ServicePort p : s.getPorts() == null ? List.<ServicePort>of() : s.getPorts()) {
            if (!isTcp(p.getProtocol())) {
                continue;
            }
            Integer target = targetPort(p, members);
            if (target != null && seen.add(target)) {
                ports.add(port(p.getName(), target, protocolOf(p.getName(), p.getAppProtocol())));
            }
        }
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("selector", new TreeMap<>(selector));
        if (!ports.isEmpty()) {
            spec.put("ports", ports);
        }
        String namespace = service.getMetadata().getNamespace();
        String name = service.getMetadata().getName();
        Map<String, Object> doc = document("Service", metadata(name, namespace, null), spec);
        return Optional.of(new InputFile(fileName(namespace, "Service", name), yaml(doc)));
    }

    /** The number behind a service port: its target port, by number or by the name of a selected pod's container port. */
    private static Integer targetPort(ServicePort p, List<Pod> members) {
        IntOrString target = p.getTargetPort();
        if (target == null || (target.getIntVal() == null && target.getStrVal() == null)) {
            return p.getPort();
        }
        if (target.getIntVal() != null) {
            return target.getIntVal();
        }
        String name = target.getStrVal();
        for (Pod pod : members) {
            for (Container c : appContainers(pod)) {
                for (ContainerPort cp : c.getPorts() == null ? List.<ContainerPort>of() : c.getPorts()) {
                    if (name.equals(cp.getName()) && isTcp(cp.getProtocol())) {
                        return cp.getContainerPort();
                    }
                }
            }
        }
        return null; // no member declares it: nothing to reach on it until one does
    }

    static boolean matches(Map<String, String> selector, Map<String, String> labels) {
        if (labels == null) {
            return selector.isEmpty();
        }
        return selector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
    }

    /** The app's containers and native sidecars (init containers that keep running), not the injected ones. */
    private static List<Container> appContainers(Pod pod) {
        Stream<Container> main = pod.getSpec().getContainers() == null ? Stream.empty() : pod.getSpec().getContainers().stream();
        Stream<Container> sidecars = pod.getSpec().getInitContainers() == null ? Stream.empty()
                : pod.getSpec().getInitContainers().stream().filter(c -> "Always".equals(c.getRestartPolicy()));
        return Stream.concat(sidecars, main).filter(c -> c.getName() == null || !c.getName().startsWith(INJECTED_PREFIX)).toList();
    }

    private static boolean isTcp(String protocol) {
        return protocol == null || protocol.isEmpty() || protocol.equals("TCP");
    }

    /**
     * The application protocol: a Service port's {@code appProtocol} if it names one Septa knows, else the port name's
     * prefix as Istio reads it ({@code grpc}, {@code grpc-web}, {@code http}, {@code http2}, {@code http-metrics}).
     * Null leaves it undeclared (TCP unless an intent names the protocol; docs/check.md).
     */
    static String protocolOf(String portName, String appProtocol) {
        String fromApp = appProtocol == null ? null : known(appProtocol.toLowerCase(Locale.ROOT));
        if (fromApp != null) {
            return fromApp;
        }
        if (portName == null) {
            return null;
        }
        String n = portName.toLowerCase(Locale.ROOT);
        int dash = n.indexOf('-');
        return known(dash < 0 ? n : n.substring(0, dash));
    }

    private static String known(String p) {
        return switch (p) {
            case "grpc", "grpc-web" -> "GRPC";
            case "http", "http2", "h2c", "kubernetes.io/h2c" -> "HTTP";
            case "tcp" -> "TCP";
            default -> null;
        };
    }

    private static Map<String, Object> port(String name, int port, String protocol) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (name != null && !name.isEmpty()) {
            m.put("name", name);
        }
        m.put("port", port);
        if (protocol != null) {
            m.put("protocol", protocol);
        }
        return m;
    }

    private static Map<String, Object> metadata(String name, String namespace, Map<String, String> labels) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        if (namespace != null && !namespace.isEmpty()) {
            m.put("namespace", namespace);
        }
        if (labels != null && !labels.isEmpty()) {
            m.put("labels", new TreeMap<>(labels));
        }
        return m;
    }

    private static Map<String, Object> document(String kind, Map<String, Object> metadata, Map<String, Object> spec) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("apiVersion", API_VERSION);
        doc.put("kind", kind);
        doc.put("metadata", metadata);
        doc.put("spec", spec);
        return doc;
    }

    private static String yaml(Map<String, Object> doc) {
        try {
            return YAML.writeValueAsString(doc);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
