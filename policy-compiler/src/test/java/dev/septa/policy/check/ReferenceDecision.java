package dev.septa.policy.check;

import dev.septa.policy.model.Action;
import dev.septa.policy.model.DefaultAction;
import dev.septa.policy.model.HttpMatch;
import dev.septa.policy.model.Intent;
import dev.septa.policy.model.LabelSelector;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.Mode;
import dev.septa.policy.model.Peer;
import dev.septa.policy.model.PortRule;
import dev.septa.policy.model.Protocol;
import dev.septa.policy.model.Segment;
import dev.septa.policy.model.SegmentRef;
import dev.septa.policy.model.SelectorRequirement;
import dev.septa.policy.model.Workload;
import dev.septa.policy.model.WorkloadPort;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The test oracle: the decision rule of docs/architecture.md ("for a request from workload S to workload D on port P (method M, path X)")
 * worked out on the model by labels, namespaces and service accounts, with the readings docs/check.md writes
 * down where the design is silent. It shares no code with the compiler, the selector resolver or the RBAC
 * evaluator (not even {@code LabelSelector.matches} or {@code MeshConfig.spiffeId}): what it computes is what a
 * careful reader of docs/architecture.md computes by hand.
 */
public final class ReferenceDecision {
    private final Mesh mesh;

    public ReferenceDecision(Mesh mesh) {
        this.mesh = mesh;
    }

    public Decision decide(Query q) {
        Workload src = workload(q.from());
        Workload dst = workload(q.to());
        // Only intents whose `to` segment selects D can say anything about a request to D.
        List<Intent> atDst = mesh.intents().stream().filter(i -> selects(i.to().segment(), dst)).toList();
        boolean http = speaksHttp(dst, q.port(), atDst);
        Predicate<Intent> covers = i -> admits(i, src) && coversRequest(i, q, http);

        // DryRun never changes the decision; a matching DryRun Deny is reported whatever the decision is.
        Optional<String> wouldDenyBy = first(atDst, i -> i.action() == Action.DENY && i.mode() == Mode.DRY_RUN
                && covers.test(i));
        Optional<String> deny = first(atDst, i -> i.action() == Action.DENY && i.mode() == Mode.ENFORCE
                && covers.test(i));
        if (deny.isPresent()) {
            return new Decision(Decision.Verdict.DENY, deny.get(), wouldDenyBy);
        }
        Optional<String> allow = first(atDst, i -> i.action() == Action.ALLOW && i.mode() == Mode.ENFORCE
                && covers.test(i));
        if (allow.isPresent()) {
            return new Decision(Decision.Verdict.ALLOW, allow.get(), wouldDenyBy);
        }
        // defaultAction Allow: closed when D on P is the `to` of any enforcing Allow, whatever its sources and
        // HTTP conditions; DryRun Allows do not count.
        boolean closed = mesh.config().defaultAction() == DefaultAction.DENY
                || atDst.stream().anyMatch(i -> i.action() == Action.ALLOW && i.mode() == Mode.ENFORCE
                        && namesPort(i, q.port()));
        return new Decision(closed ? Decision.Verdict.DENY : Decision.Verdict.ALLOW, "default", wouldDenyBy);
    }

    /** When several intents match, the answer names the smallest {@code ns/name} (plain string order). */
    private static Optional<String> first(List<Intent> intents, Predicate<Intent> p) {
        return intents.stream().filter(p).map(ReferenceDecision::name).min(Comparator.naturalOrder());
    }

    /**
     * Sources are principals: a namespace source admits every workload of that namespace; a segment source admits
     * every workload whose SPIFFE ID is that of a member (a shared service account is a shared identity).
     */
    private boolean admits(Intent intent, Workload src) {
        for (Peer peer : intent.from()) {
            boolean admitted = switch (peer) {
                case Peer.NamespacePeer ns -> ns.namespace().equals(src.metadata().namespace());
                case Peer.SegmentPeer sp -> mesh.workloads().stream()
                        .anyMatch(m -> selects(sp.segment(), m) && identity(m).equals(identity(src)));
            };
            if (admitted) {
                return true;
            }
        }
        return false;
    }

    /**
     * Ports omitted or empty: every port. Otherwise the entry for P, whose HTTP conditions must all hold; an
     * unknown method or path (not in the query) satisfies only an entry without that condition. Where D's port
     * speaks TCP, HTTP conditions cannot be seen: an Allow with them admits nothing there, a Deny with them
     * denies the whole port (never loosen).
     */
    private static boolean coversRequest(Intent intent, Query q, boolean http) {
        List<PortRule> ports = intent.to().ports();
        if (ports.isEmpty()) {
            return true;
        }
        // A port listed in several entries: any entry that covers the request is enough.
        return ports.stream().anyMatch(rule -> rule.port() == q.port() && entryCovers(rule, intent.action(), q, http));
    }

    private static boolean entryCovers(PortRule rule, Action action, Query q, boolean http) {
        HttpMatch m = rule.http();
        if (m == null || (m.methods().isEmpty() && m.paths().isEmpty())) {
            return true;
        }
        if (!http) {
            return action == Action.DENY;
        }
        boolean method = m.methods().isEmpty() || (q.method() != null && m.methods().contains(q.method()));
        boolean path = m.paths().isEmpty() || (q.path() != null
                && m.paths().stream().anyMatch(p -> pathMatches(p, withoutQuery(q.path()))));
        return method && path;
    }

    /** {@code /v1/*} is a prefix ({@code /v1/x}, not {@code /v1}); anything else is exact. */
    private static boolean pathMatches(String pattern, String path) {
        return pattern.endsWith("*") ? path.startsWith(pattern.substring(0, pattern.length() - 1)) : path.equals(pattern);
    }

    /** Paths are matched without the query string or fragment. */
    private static String withoutQuery(String path) {
        int cut = path.length();
        for (char c : new char[] {'?', '#'}) {
            int at = path.indexOf(c);
            if (at >= 0 && at < cut) {
                cut = at;
            }
        }
        return path.substring(0, cut);
    }

    private static boolean namesPort(Intent intent, int port) {
        return intent.to().ports().isEmpty() || intent.to().ports().stream().anyMatch(r -> r.port() == port);
    }

    /**
     * Whether D's port P carries HTTP (HTTP or GRPC): as D declares it; for a port D does not declare (or declares
     * without a protocol), HTTP when an
     * intent aimed at D names P as HTTP or GRPC, or names it without a protocol but with {@code http} conditions
     * (so that its HTTP conditions can be enforced), else TCP.
     */
    private static boolean speaksHttp(Workload dst, int port, List<Intent> atDst) {
        for (WorkloadPort p : dst.ports()) {
            if (p.port() == port && p.protocolGiven()) {
                return p.protocol() != Protocol.TCP;
            }
        }
        return atDst.stream().flatMap(i -> i.to().ports().stream())
                .anyMatch(r -> r.port() == port && (r.protocol() == null ? r.http() != null : r.protocol() != Protocol.TCP));
    }

    private boolean selects(SegmentRef ref, Workload w) {
        Segment segment = mesh.segments().stream()
                .filter(s -> s.metadata().namespace().equals(ref.namespace()) && s.metadata().name().equals(ref.name()))
                .findFirst().orElseThrow(() -> new IllegalStateException("no segment " + ref.namespace() + "/" + ref.name()));
        return w.metadata().namespace().equals(segment.metadata().namespace())
                && labelsMatch(segment.selector(), w.metadata().labels());
    }

    /** Kubernetes label-selector semantics: every matchLabels pair and every expression; NotIn admits a missing key. */
    private static boolean labelsMatch(LabelSelector selector, Map<String, String> labels) {
        for (var e : selector.matchLabels().entrySet()) {
            if (!e.getValue().equals(labels.get(e.getKey()))) {
                return false;
            }
        }
        for (SelectorRequirement r : selector.matchExpressions()) {
            boolean has = labels.containsKey(r.key());
            boolean holds = switch (r.operator().name()) {
                case "In" -> has && r.values().contains(labels.get(r.key()));
                case "NotIn" -> !has || !r.values().contains(labels.get(r.key()));
                case "Exists" -> has;
                case "DoesNotExist" -> !has;
                default -> throw new IllegalArgumentException("operator " + r.operator());
            };
            if (!holds) {
                return false;
            }
        }
        return true;
    }

    private String identity(Workload w) {
        return "spiffe://" + mesh.config().trustDomain() + "/ns/" + w.metadata().namespace() + "/sa/" + w.serviceAccount();
    }

    private static String name(Intent i) {
        return i.metadata().namespace() + "/" + i.metadata().name();
    }

    private Workload workload(String id) {
        return mesh.workloads().stream()
                .filter(w -> (w.metadata().namespace() + "/" + w.metadata().name()).equals(id)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown workload " + id));
    }
}
