package dev.septa.controlplane.xds;

import dev.septa.controlplane.auth.NodeAuthorizer;
import dev.septa.policy.compile.Dialect;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.controlplane.server.exception.RequestException;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.Status;
import java.util.List;
import java.util.Set;

/**
 * Checks every discovery request against its stream's principal: the first request binds the stream to the
 * node it names (if the principal may act as that node), later requests may not name another node, and SDS
 * asks only for {@code default} and {@code ROOTCA}. A violation ends the stream with PERMISSION_DENIED.
 * <p>Dialect: node metadata {@code SEPTA_DIALECT} ({@code envoy} | {@code grpc}); without it, a user agent
 * containing "grpc" means grpc, anything else Envoy.
 */
public final class StreamAuthorizer implements DiscoveryServerCallbacks {
    public static final String DIALECT_METADATA = "SEPTA_DIALECT";
    public static final Set<String> SECRET_NAMES = Set.of("default", "ROOTCA");

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(StreamAuthorizer.class);

    private final NodeAuthorizer authorizer;
    private final ProxyConfigCache cache;

    public StreamAuthorizer(NodeAuthorizer authorizer, ProxyConfigCache cache) {
        this.authorizer = authorizer;
        this.cache = cache;
    }

    @Override
    public void onV3StreamRequest(long streamId, DiscoveryRequest request) throws RequestException {
        check(request.hasNode() ? request.getNode() : null, ProxyConfigCache.typeUrl(request.getTypeUrl(), false),
                request.getResourceNamesList());
    }

    @Override
    public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request) throws RequestException {
        check(request.hasNode() ? request.getNode() : null, ProxyConfigCache.typeUrl(request.getTypeUrl(), false),
                request.getResourceNamesSubscribeList());
    }

    private void check(Node node, String typeUrl, List<String> names) throws RequestException {
        StreamSession session = StreamSession.current();
        if (session == null) {
            throw new RequestException(Status.UNAUTHENTICATED.withDescription("unauthenticated stream"));
        }
        String nodeId = node == null ? "" : node.getId();
        if (!nodeId.isEmpty()) {
            if (session.nodeId() == null) {
                if (!authorizer.mayActAs(session.principal(), nodeId) || !cache.bind(session, nodeId, dialect(node))) {
                    throw denied(Status.PERMISSION_DENIED.withDescription(
                            session.principal().describe() + " may not act as node " + nodeId));
                }
            } else if (!session.nodeId().equals(nodeId)) {
                throw denied(Status.PERMISSION_DENIED.withDescription(
                        "stream is bound to node " + session.nodeId() + ", request names node " + nodeId));
            }
        } else if (session.nodeId() == null) {
            throw new RequestException(Status.INVALID_ARGUMENT.withDescription(
                    "the first request on a stream must carry node.id (NS/NAME)"));
        }
        if (Resources.V3.SECRET_TYPE_URL.equals(typeUrl)) {
            for (String name : names) {
                if (!SECRET_NAMES.contains(name)) {
                    throw denied(Status.PERMISSION_DENIED.withDescription(
                            "secret '" + name + "' is not available to node " + session.nodeId()
                                    + " (only 'default' and 'ROOTCA')"));
                }
            }
        }
    }

    private static RequestException denied(Status status) {
        LOG.warn("xDS request refused: {}", status.getDescription());
        return new RequestException(status);
    }

    static Dialect dialect(Node node) {
        var field = node.getMetadata().getFieldsMap().get(DIALECT_METADATA);
        if (field != null && !field.getStringValue().isEmpty()) {
            return field.getStringValue().equalsIgnoreCase("grpc") ? Dialect.GRPC : Dialect.ENVOY;
        }
        return node.getUserAgentName().toLowerCase().contains("grpc") ? Dialect.GRPC : Dialect.ENVOY;
    }
}
