package dev.septa.controlplane.graph;

import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.RequestMethod;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.TCPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.TLSProperties;

import java.util.Optional;

/**
 * Turns one Envoy access-log entry, logged by the destination's inbound listener, into an {@link Observation}.
 * Source: the peer certificate's SPIFFE URI SAN plus the downstream remote address; destination: the proxy that
 * sent the log; port: the downstream local address (the workload port the call was for); verdict and names: the
 * RBAC filters' dynamic metadata and the denial details ({@link RbacDecisionReader}).
 */
final class AccessLogEntryReader {
    /**
     * Every string an edge keeps comes from a reporter, so each is bounded: an entry whose SPIFFE ID, address or
     * policy name is longer is malformed (a real one is far shorter), and a longer path is not kept as a sample.
     * With the edge cap this bounds the graph's memory whatever a flood carries (docs/graph.md, "Bounds").
     */
    static final int MAX_NAME_CHARS = 512;
    static final int MAX_PATH_CHARS = 256;

    private final WorkloadDirectory directory;

    AccessLogEntryReader(WorkloadDirectory directory) {
        this.directory = directory;
    }

    /** Empty when the entry lacks what an edge needs (no local port): the caller counts it as malformed. */
    Optional<Observation> http(HTTPAccessLogEntry e, WorkloadRef destination) {
        AccessLogCommon c = e.getCommonProperties();
        int port = port(c);
        if (port <= 0) {
            return Optional.empty();
        }
        String details = e.getResponse().getResponseCodeDetails();
        var decision = RbacDecisionReader.read(c.getMetadata(), RbacDecisionReader.HTTP_RBAC, details,
                c.getResponseFlags().hasUnauthorizedDetails());
        RequestMethod m = e.getRequest().getRequestMethod();
        String method = m == RequestMethod.METHOD_UNSPECIFIED || m == RequestMethod.UNRECOGNIZED ? null : m.name();
        String full = e.getRequest().getPath();
        int q = full.indexOf('?');
        String path = q >= 0 ? full.substring(0, q) : full;
        if (tooLong(decision.decidedBy()) || tooLong(decision.wouldDenyBy())) {
            return Optional.empty();
        }
        return source(c).map(source -> new Observation(source, destination, port, decision.verdict(), decision.decidedBy(),
                decision.wouldDenyBy(), method, path.isEmpty() || path.length() > MAX_PATH_CHARS ? null : path));
    }

    Optional<Observation> tcp(TCPAccessLogEntry e, WorkloadRef destination) {
        AccessLogCommon c = e.getCommonProperties();
        int port = port(c);
        if (port <= 0) {
            return Optional.empty();
        }
        var decision = RbacDecisionReader.read(c.getMetadata(), RbacDecisionReader.NETWORK_RBAC,
                c.getConnectionTerminationDetails(), c.getResponseFlags().hasUnauthorizedDetails());
        if (tooLong(decision.decidedBy()) || tooLong(decision.wouldDenyBy())) {
            return Optional.empty();
        }
        return source(c).map(source -> new Observation(source, destination, port, decision.verdict(), decision.decidedBy(),
                decision.wouldDenyBy(), null, null));
    }

    /** Empty when the caller's SPIFFE ID or address is too long to be real. */
    private Optional<WorkloadRef> source(AccessLogCommon c) {
        String spiffe = spiffeId(c.getTlsProperties());
        String ip = c.hasDownstreamDirectRemoteAddress() ? ip(c.getDownstreamDirectRemoteAddress()) : ip(c.getDownstreamRemoteAddress());
        if (tooLong(spiffe) || tooLong(ip)) {
            return Optional.empty();
        }
        return Optional.of(directory.bySource(spiffe, ip).orElseGet(() -> WorkloadRef.external(spiffe, ip)));
    }

    private static boolean tooLong(String s) {
        return s != null && s.length() > MAX_NAME_CHARS;
    }

    static String spiffeId(TLSProperties tls) {
        for (var san : tls.getPeerCertificateProperties().getSubjectAltNameList()) {
            if (san.getUri().startsWith("spiffe://")) {
                return san.getUri();
            }
        }
        return null;
    }

    private static String ip(Address a) {
        return a.hasSocketAddress() && !a.getSocketAddress().getAddress().isEmpty() ? a.getSocketAddress().getAddress() : null;
    }

    /**
     * The workload port the call was for: the downstream local address, which Envoy restores to the original
     * destination on a redirected inbound listener. When that is the virtual inbound listener's own port (no
     * original destination), the port in the inbound cluster's name ({@code inbound|PORT||...}) stands in.
     */
    static int port(AccessLogCommon c) {
        int local = c.getDownstreamLocalAddress().hasSocketAddress() ? c.getDownstreamLocalAddress().getSocketAddress().getPortValue() : 0;
        if (local != 0 && local != INBOUND_LISTENER_PORT) {
            return local;
        }
        String cluster = c.getUpstreamCluster();
        if (cluster.startsWith("inbound|")) {
            int end = cluster.indexOf('|', "inbound|".length());
            try {
                return Integer.parseInt(cluster.substring("inbound|".length(), end < 0 ? cluster.length() : end));
            } catch (NumberFormatException ignored) {
                // not Septa's naming: fall through
            }
        }
        return local;
    }

    /** The Envoy sidecar's virtual inbound listener (docs/architecture.md, xDS conventions). */
    static final int INBOUND_LISTENER_PORT = 15006;
}
