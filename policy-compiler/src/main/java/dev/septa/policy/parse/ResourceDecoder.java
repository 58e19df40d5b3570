package dev.septa.policy.parse;

import dev.septa.policy.model.Action;
import dev.septa.policy.model.EgressRule;
import dev.septa.policy.model.HttpMatch;
import dev.septa.policy.model.Intent;
import dev.septa.policy.model.LabelSelector;
import dev.septa.policy.model.MeshConfig;
import dev.septa.policy.model.Mode;
import dev.septa.policy.model.ObjectMeta;
import dev.septa.policy.model.Peer;
import dev.septa.policy.model.PortRule;
import dev.septa.policy.model.Protocol;
import dev.septa.policy.model.Quarantine;
import dev.septa.policy.model.Segment;
import dev.septa.policy.model.SegmentRef;
import dev.septa.policy.model.SelectorRequirement;
import dev.septa.policy.model.Service;
import dev.septa.policy.model.Source;
import dev.septa.policy.model.Target;
import dev.septa.policy.model.Workload;
import dev.septa.policy.model.WorkloadPort;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.nodes.Node;

/**
 * Decodes one YAML document into a model resource, reporting every problem through the {@link YamlReader}.
 * A resource with any error is still returned when its identity is known (so later checks such as duplicate
 * names still run), but the parse as a whole then fails.
 */
final class ResourceDecoder {
    static final String API_VERSION = "septa.dev/v1alpha1";
    static final List<String> KINDS = List.of("Segment", "Intent", "MeshConfig", "Workload", "Service", "Quarantine");
    static final List<String> METHODS = List.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT");

    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    static final Pattern SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

    private static final Map<String, Action> ACTIONS = ordered("Allow", Action.ALLOW, "Deny", Action.DENY);
    private static final Map<String, Mode> MODES = ordered("Enforce", Mode.ENFORCE, "DryRun", Mode.DRY_RUN);
    private static final Map<String, Protocol> PROTOCOLS = ordered("HTTP", Protocol.HTTP, "GRPC", Protocol.GRPC, "TCP", Protocol.TCP);
    private static final Map<String, SelectorRequirement.Operator> OPERATORS = ordered(
            "In", SelectorRequirement.Operator.In, "NotIn", SelectorRequirement.Operator.NotIn,
            "Exists", SelectorRequirement.Operator.Exists, "DoesNotExist", SelectorRequirement.Operator.DoesNotExist);

    private final YamlReader r;
    private final Positions positions;
    private final MeshConfigDecoder meshConfigs;

    ResourceDecoder(YamlReader reader, Positions positions) {
        this.r = reader;
        this.positions = positions;
        this.meshConfigs = new MeshConfigDecoder(reader);
    }

    /** Returns a Segment, Intent, MeshConfig, Workload, Service or Quarantine, or null when the document cannot be identified. */
    Object decode(Node root) {
        YamlReader.Fields doc = r.fields(root, "document", Set.of("apiVersion", "kind", "metadata", "spec"));
        if (doc == null) {
            return null;
        }
        String apiVersion = null;
        if (doc.require("apiVersion", "expected " + API_VERSION)) {
            apiVersion = doc.string("apiVersion");
            if (apiVersion != null && !apiVersion.equals(API_VERSION)) {
                r.error(doc.get("apiVersion"), "unknown apiVersion '" + apiVersion + "': expected " + API_VERSION);
            }
        }
        if (!doc.require("kind", "one of " + String.join(", ", KINDS))) {
            return null;
        }
        String kind = doc.string("kind");
        if (kind == null) {
            return null;
        }
        if (!KINDS.contains(kind)) {
            r.error(doc.get("kind"), "unknown kind '" + kind + "'" + Suggestions.didYouMean(kind, KINDS)
                    + " (expected one of " + String.join(", ", KINDS) + ")");
            return null;
        }
        boolean namespaced = !kind.equals("MeshConfig");
        if (!doc.require("metadata", null)) {
            return null;
        }
        ObjectMeta meta = metadata(doc.get("metadata"), kind, namespaced);
        if (meta == null) {
            return null;
        }
        Source source = r.pos(root);
        Node spec = doc.get("spec");
        Object resource = switch (kind) {
            case "Segment" -> doc.require("spec", null) ? segment(meta, spec, source) : null;
            case "Intent" -> doc.require("spec", null) ? intent(meta, spec, source) : null;
            case "Workload" -> doc.require("spec", null) ? workload(meta, spec, source) : null;
            case "Service" -> doc.require("spec", null) ? service(meta, spec, source) : null;
            case "Quarantine" -> doc.require("spec", null) ? quarantine(meta, spec, source) : null;
            default -> meshConfigs.decode(doc.has("spec") ? spec : null);
        };
        if (resource != null) {
            positions.put(resource, r.pos(doc.get("metadata")));
        }
        return resource;
    }

    private ObjectMeta metadata(Node node, String kind, boolean namespaced) {
        YamlReader.Fields f = r.fields(node, "metadata", Set.of("name", "namespace", "labels", "annotations"));
        if (f == null || !f.require("name", null)) {
            return null;
        }
        String name = f.string("name");
        if (name == null || !checkName(f.get("name"), name, "name", SUBDOMAIN, 253)) {
            return null;
        }
        String namespace = null;
        if (namespaced) {
            if (!f.require("namespace", kind + " is namespaced")) {
                return null;
            }
            namespace = f.string("namespace");
            if (namespace == null || !checkName(f.get("namespace"), namespace, "namespace", LABEL, 63)) {
                return null;
            }
        } else if (f.has("namespace")) {
            r.error(f.keyNode("namespace"), kind + " is cluster-scoped: remove 'metadata.namespace'");
        }
        Map<String, String> labels = f.stringMap("labels");
        if (f.has("annotations")) {
            f.stringMap("annotations");
        }
        return new ObjectMeta(name, namespace, labels);
    }

    private boolean checkName(Node node, String value, String what, Pattern pattern, int max) {
        if (value.length() > max || !pattern.matcher(value).matches()) {
            r.error(node, "invalid " + what + " '" + value + "': use lowercase letters, digits and '-'"
                    + (pattern == SUBDOMAIN ? " (and '.')" : "") + ", starting and ending with a letter or digit, at most " + max + " characters");
            return false;
        }
        return true;
    }

    private Segment segment(ObjectMeta meta, Node spec, Source source) {
        YamlReader.Fields f = r.fields(spec, "spec", Set.of("selector", "egress"));
        if (f == null || !f.require("selector", "use {} to select every workload of the namespace")) {
            return null;
        }
        LabelSelector selector = selector(f.get("selector"), "spec.selector");
        List<EgressRule> egress = null;
        boolean ok = true;
        if (f.has("egress")) {
            egress = egress(f.get("egress"), meta.namespace());
            ok = egress != null;
        }
        return selector == null || !ok ? null : new Segment(meta, selector, egress, source);
    }

    /**
     * {@code spec.egress}: a list (possibly empty) of {@code {namespace: NS}}, {@code {service: NAME | NS/NAME}} or
     * {@code {segment: NAME | NS/NAME}}; names without a namespace are in the Segment's (decision 0008).
     */
    private List<EgressRule> egress(Node node, String namespace) {
        List<Node> items = r.list(node, "spec.egress");
        if (items == null) {
            return null;
        }
        List<EgressRule> rules = new ArrayList<>();
        boolean ok = true;
        for (Node item : items) {
            YamlReader.Fields f = r.fields(item, "spec.egress[]", Set.of("namespace", "service", "segment"));
            if (f == null) {
                ok = false;
                continue;
            }
            int given = (f.has("namespace") ? 1 : 0) + (f.has("service") ? 1 : 0) + (f.has("segment") ? 1 : 0);
            if (given != 1) {
                if (given > 1 || !f.misspelled()) { // a misspelt kind was reported already ("did you mean")
                    r.error(item, "an 'egress' entry needs exactly one of 'namespace', 'service' or 'segment'");
                }
                ok = false;
                continue;
            }
            EgressRule rule;
            if (f.has("namespace")) {
                String ns = f.string("namespace");
                rule = ns != null && checkName(f.get("namespace"), ns, "namespace", LABEL, 63) ? new EgressRule.NamespaceRule(ns) : null;
            } else if (f.has("service")) {
                rule = serviceRef(f.get("service"), namespace);
            } else {
                SegmentRef ref = segmentRef(f.get("segment"), "spec.egress[].segment", namespace);
                rule = ref == null ? null : new EgressRule.SegmentRule(ref);
            }
            if (rule == null) {
                ok = false;
            } else {
                rules.add(rule);
            }
        }
        return ok ? rules : null;
    }

    private EgressRule.ServiceRule serviceRef(Node node, String defaultNamespace) {
        String value = r.string(node, "spec.egress[].service");
        if (value == null) {
            return null;
        }
        String[] parts = value.split("/", -1);
        String ns = parts.length == 2 ? parts[0] : defaultNamespace;
        String name = parts[parts.length - 1];
        if (parts.length > 2 || !LABEL.matcher(ns).matches() || ns.length() > 63 || name.length() > 253
                || !SUBDOMAIN.matcher(name).matches()) {
            r.error(node, "invalid service reference '" + value
                    + "': write NAME or NAMESPACE/NAME in lowercase letters, digits and '-'");
            return null;
        }
        return new EgressRule.ServiceRule(ns, name);
    }

    private LabelSelector selector(Node node, String where) {
        YamlReader.Fields f = r.fields(node, where, Set.of("matchLabels", "matchExpressions"));
        if (f == null) {
            return null;
        }
        Map<String, String> labels = f.stringMap("matchLabels");
        List<SelectorRequirement> expressions = new ArrayList<>();
        List<Node> items = f.list("matchExpressions");
        boolean ok = true;
        if (items != null) {
            for (Node item : items) {
                SelectorRequirement req = requirement(item, where + ".matchExpressions[]");
                if (req == null) {
                    ok = false;
                } else {
                    expressions.add(req);
                }
            }
        }
        return ok ? new LabelSelector(labels, expressions) : null;
    }

    private SelectorRequirement requirement(Node node, String where) {
        YamlReader.Fields f = r.fields(node, where, Set.of("key", "operator", "values"));
        if (f == null || !f.require("key", null) | !f.require("operator", "one of In, NotIn, Exists, DoesNotExist")) {
            return null;
        }
        String key = f.string("key");
        SelectorRequirement.Operator op = r.enumValue(f.get("operator"), "selector operator", OPERATORS);
        List<String> values = f.has("values") ? r.stringList(f.get("values"), where + ".values") : List.of();
        if (key == null || op == null || values == null) {
            return null;
        }
        boolean needsValues = op == SelectorRequirement.Operator.In || op == SelectorRequirement.Operator.NotIn;
        if (needsValues && values.isEmpty()) {
            r.error(f.node(), "operator " + op + " needs a non-empty 'values' list");
            return null;
        }
        if (!needsValues && !values.isEmpty()) {
            r.error(f.get("values"), "operator " + op + " takes no 'values'; remove them or use In/NotIn");
            return null;
        }
        return new SelectorRequirement(key, op, values);
    }

    private Intent intent(ObjectMeta meta, Node spec, Source source) {
        YamlReader.Fields f = r.fields(spec, "spec", Set.of("action", "mode", "from", "to"));
        if (f == null) {
            return null;
        }
        boolean ok = f.require("action", "Allow or Deny") & f.require("from", "a list of sources") & f.require("to", null);
        Action action = f.has("action") ? r.enumValue(f.get("action"), "action", ACTIONS) : null;
        Mode mode = f.has("mode") ? r.enumValue(f.get("mode"), "mode", MODES) : Mode.ENFORCE;
        List<Peer> from = f.has("from") ? peers(f.get("from"), meta.namespace()) : null;
        Target to = f.has("to") ? target(f.get("to"), meta.namespace()) : null;
        if (!ok || action == null || mode == null || from == null || to == null) {
            return null;
        }
        return new Intent(meta, action, mode, from, to, source);
    }

    private List<Peer> peers(Node node, String namespace) {
        List<Node> items = r.list(node, "spec.from");
        if (items == null) {
            return null;
        }
        if (items.isEmpty()) {
            r.error(node, "'spec.from' must list at least one source (a segment or a namespace)");
            return null;
        }
        List<Peer> peers = new ArrayList<>();
        boolean ok = true;
        for (Node item : items) {
            YamlReader.Fields f = r.fields(item, "spec.from[]", Set.of("segment", "namespace"));
            if (f == null) {
                ok = false;
                continue;
            }
            if (f.has("segment") == f.has("namespace")) {
                r.error(item, "a 'from' entry needs exactly one of 'segment' or 'namespace'");
                ok = false;
                continue;
            }
            if (f.has("namespace")) {
                String ns = f.string("namespace");
                if (ns == null || !checkName(f.get("namespace"), ns, "namespace", LABEL, 63)) {
                    ok = false;
                } else {
                    peers.add(new Peer.NamespacePeer(ns));
                }
                continue;
            }
            SegmentRef ref = segmentRef(f.get("segment"), "spec.from[].segment", namespace);
            if (ref == null) {
                ok = false;
            } else {
                peers.add(new Peer.SegmentPeer(ref));
            }
        }
        return ok ? peers : null;
    }

    private SegmentRef segmentRef(Node node, String what, String defaultNamespace) {
        String value = r.string(node, what);
        if (value == null) {
            return null;
        }
        String[] parts = value.split("/", -1);
        if (parts.length > 2) {
            r.error(node, "invalid segment reference '" + value + "': write NAME or NAMESPACE/NAME");
            return null;
        }
        String ns = parts.length == 2 ? parts[0] : defaultNamespace;
        String name = parts[parts.length - 1];
        if (!LABEL.matcher(ns).matches() || !SUBDOMAIN.matcher(name).matches()) {
            r.error(node, "invalid segment reference '" + value + "': write NAME or NAMESPACE/NAME in lowercase letters, digits and '-'");
            return null;
        }
        SegmentRef ref = new SegmentRef(ns, name);
        positions.put(ref, r.pos(node));
        return ref;
    }

    private Target target(Node node, String namespace) {
        YamlReader.Fields f = r.fields(node, "spec.to", Set.of("segment", "ports"));
        if (f == null || !f.require("segment", "a segment of the intent's namespace")) {
            return null;
        }
        SegmentRef ref = segmentRef(f.get("segment"), "spec.to.segment", namespace);
        if (ref != null && !ref.namespace().equals(namespace)) {
            r.error(f.get("segment"), "'spec.to.segment' must be in the intent's own namespace '" + namespace
                    + "': write '" + ref.name() + "' in an Intent of namespace '" + ref.namespace() + "'");
            ref = null;
        }
        List<PortRule> ports = new ArrayList<>();
        boolean ok = ref != null;
        List<Node> items = f.list("ports");
        if (f.has("ports") && items == null) {
            ok = false;
        }
        if (items != null) {
            // A port may be listed more than once (say GET anywhere, or POST to /x): the entries are alternatives.
            for (Node item : items) {
                PortRule rule = portRule(item);
                if (rule == null) {
                    ok = false;
                } else {
                    ports.add(rule);
                }
            }
        }
        return ok ? new Target(ref, ports) : null;
    }

    private PortRule portRule(Node node) {
        YamlReader.Fields f = r.fields(node, "spec.to.ports[]", Set.of("port", "protocol", "http"));
        if (f == null) {
            return null;
        }
        boolean ok = f.require("port", null);
        Integer port = f.has("port") ? port(f.get("port"), "spec.to.ports[].port") : null;
        // Omitted: the protocol the destination workload declares for the port (null in the model).
        Protocol protocol = null;
        if (f.has("protocol")) {
            protocol = r.enumValue(f.get("protocol"), "protocol", PROTOCOLS);
            ok &= protocol != null;
        }
        HttpMatch http = null;
        if (f.has("http")) {
            http = httpMatch(f.get("http"));
            if (protocol == Protocol.TCP) {
                r.error(f.keyNode("http"), "'http' rules need protocol HTTP or GRPC; port " + (port == null ? "" : port + " ")
                        + "is TCP (remove 'http' or change the protocol)");
                ok = false;
            }
            ok &= http != null;
        }
        return ok && port != null ? new PortRule(port, protocol, http) : null;
    }

    private HttpMatch httpMatch(Node node) {
        YamlReader.Fields f = r.fields(node, "spec.to.ports[].http", Set.of("methods", "paths"));
        if (f == null) {
            return null;
        }
        boolean ok = true;
        List<String> methods = new ArrayList<>();
        List<Node> methodNodes = f.list("methods");
        if (methodNodes != null) {
            for (Node m : methodNodes) {
                String method = r.string(m, "http.methods[]");
                if (method == null) {
                    ok = false;
                } else if (!METHODS.contains(method)) {
                    r.error(m, "invalid HTTP method '" + method + "'" + Suggestions.didYouMean(method, METHODS)
                            + " (expected one of " + String.join(", ", METHODS) + ")");
                    ok = false;
                } else {
                    methods.add(method);
                }
            }
        }
        List<String> paths = new ArrayList<>();
        List<Node> pathNodes = f.list("paths");
        if (pathNodes != null) {
            for (Node p : pathNodes) {
                String path = r.string(p, "http.paths[]");
                if (path == null) {
                    ok = false;
                } else if (!path.startsWith("/")) {
                    r.error(p, "invalid path '" + path + "': a path must start with '/'");
                    ok = false;
                } else if (path.indexOf('*') >= 0 && path.indexOf('*') != path.length() - 1) {
                    r.error(p, "invalid path '" + path + "': '*' is allowed only as the last character (a prefix match such as '/v1/refunds/*')");
                    ok = false;
                } else if (path.chars().anyMatch(c -> c <= ' ' || c == '?' || c == '#')) {
                    r.error(p, "invalid path '" + path + "': no spaces, '?' or '#' (paths are matched without the query)");
                    ok = false;
                } else {
                    paths.add(path);
                }
            }
        }
        return ok ? new HttpMatch(methods, paths) : null;
    }

    private Workload workload(ObjectMeta meta, Node spec, Source source) {
        YamlReader.Fields f = r.fields(spec, "spec", Set.of("serviceAccount", "address", "ports"));
        if (f == null) {
            return null;
        }
        boolean ok = f.require("serviceAccount", null) & f.require("address", "the workload's IP address");
        String sa = f.string("serviceAccount");
        if (sa != null && !checkName(f.get("serviceAccount"), sa, "serviceAccount", SUBDOMAIN, 253)) {
            sa = null;
        }
        if (sa != null && MeshConfig.isControlPlaneIdentity(meta.namespace(), sa)) {
            // Its SVID would pass every sidecar's check of the control plane's certificate (xDS and access logs).
            r.error(f.get("serviceAccount"), "serviceAccount '" + sa + "' in namespace '" + meta.namespace()
                    + "' is the control plane's own identity and cannot be given to a workload: use another service"
                    + " account or namespace");
            sa = null;
        }
        String address = f.string("address");
        if (address != null && !isIpLiteral(address)) {
            r.error(f.get("address"), "invalid address '" + address + "': expected an IP address such as 127.0.1.2");
            address = null;
        }
        List<WorkloadPort> ports = ports(f, "spec.ports");
        return ok && sa != null && address != null && ports != null ? new Workload(meta, sa, address, ports, source) : null;
    }

    /** {@code spec: {workload: NAME, reason: TEXT, allowFrom: SEGMENT}}; the workload is in the Quarantine's namespace. */
    private Quarantine quarantine(ObjectMeta meta, Node spec, Source source) {
        YamlReader.Fields f = r.fields(spec, "spec", Set.of("workload", "reason", "allowFrom"));
        if (f == null || !f.require("workload", "the name of the workload to quarantine, in the Quarantine's namespace")) {
            return null;
        }
        String workload = f.string("workload");
        if (workload != null && !checkName(f.get("workload"), workload, "workload", SUBDOMAIN, 253)) {
            workload = null;
        }
        String reason = null;
        boolean ok = true;
        if (f.has("reason")) {
            reason = f.string("reason");
            String problem = reason == null ? null : Quarantine.reasonProblem(reason);
            if (problem != null) {
                r.error(f.get("reason"), "invalid reason: it " + problem + " (it names the denying policy, 'quarantine:<reason>')");
                ok = false;
            }
            ok &= reason != null;
        }
        SegmentRef allowFrom = null;
        if (f.has("allowFrom")) {
            allowFrom = segmentRef(f.get("allowFrom"), "spec.allowFrom", meta.namespace());
            ok &= allowFrom != null;
        }
        return ok && workload != null ? new Quarantine(meta, workload, reason, allowFrom, source) : null;
    }

    private Service service(ObjectMeta meta, Node spec, Source source) {
        YamlReader.Fields f = r.fields(spec, "spec", Set.of("selector", "ports"));
        if (f == null) {
            return null;
        }
        boolean ok = f.require("selector", "the labels of the service's workloads");
        Map<String, String> selector = f.stringMap("selector");
        List<WorkloadPort> ports = ports(f, "spec.ports");
        return ok && selector != null && ports != null ? new Service(meta, selector, ports, source) : null;
    }

    private List<WorkloadPort> ports(YamlReader.Fields parent, String where) {
        if (!parent.has("ports")) {
            return List.of();
        }
        List<Node> items = parent.list("ports");
        if (items == null) {
            return null;
        }
        List<WorkloadPort> ports = new ArrayList<>();
        Set<Integer> seen = new HashSet<>();
        boolean ok = true;
        for (Node item : items) {
            YamlReader.Fields f = r.fields(item, where + "[]", Set.of("name", "port", "protocol"));
            if (f == null || !f.require("port", null)) {
                ok = false;
                continue;
            }
            String name = f.has("name") ? f.string("name") : "";
            Integer port = port(f.get("port"), where + "[].port");
            Protocol protocol = f.has("protocol") ? r.enumValue(f.get("protocol"), "protocol", PROTOCOLS) : Protocol.TCP;
            if (name == null || port == null || protocol == null) {
                ok = false;
                continue;
            }
            if (!seen.add(port)) {
                r.error(f.get("port"), "duplicate port " + port + " in '" + where + "'");
                ok = false;
                continue;
            }
            ports.add(new WorkloadPort(name, port, protocol, f.has("protocol")));
        }
        return ok ? ports : null;
    }

    private Integer port(Node node, String what) {
        Integer port = r.integer(node, what);
        if (port != null && (port < 1 || port > 65535)) {
            r.error(node, "port " + port + " is out of range: expected 1-65535");
            return null;
        }
        return port;
    }

    private static boolean isIpLiteral(String s) {
        try {
            InetAddress.ofLiteral(s);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @SuppressWarnings("unchecked")
    static <E> Map<String, E> ordered(Object... pairs) {
        Map<String, E> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put((String) pairs[i], (E) pairs[i + 1]);
        }
        return m;
    }
}
