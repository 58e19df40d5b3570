package dev.septa.controlplane;

import dev.septa.controlplane.graph.ReporterAuthorizer;
import dev.septa.controlplane.auth.NodeAuthorizer;
import dev.septa.controlplane.xds.StreamSession;

/**
 * The ADS rule (decision 0002) for access-log streams: the caller authenticated by {@link StreamAuthInterceptor}
 * (node token or SVID) may report only as a node it may act as, so one workload cannot invent another's traffic.
 */
public final class SessionReporterAuthorizer implements ReporterAuthorizer {
    private final NodeAuthorizer authorizer;

    public SessionReporterAuthorizer(NodeAuthorizer authorizer) {
        this.authorizer = authorizer;
    }

    @Override
    public boolean mayReportFor(String nodeId) {
        StreamSession session = StreamSession.current();
        return session != null && authorizer.mayActAs(session.principal(), nodeId);
    }
}
