package dev.septa.sidecar.bootstrap;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.bootstrap.v3.Admin;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The Envoy sidecar's bootstrap, built as a typed {@link Bootstrap} (no text template): node {@code ns/name} with
 * Septa's metadata, LDS and CDS over ADS (RDS, EDS and SDS follow through the resources' own {@code ads} config
 * sources), a static cluster {@code septa-xds} to the control plane over HTTP/2 and TLS, and {@code septa-als} to
 * the same address presenting the workload's SVID, for the inbound listener's access logs (the traffic graph). The control plane's
 * certificate is verified with the trust bundle carried inline and its SPIFFE ID; the stream carries
 * {@code authorization: Bearer <node token>} as {@code initial_metadata} (decision 0002, option 1).
 *
 * <p>The token is short-lived (10 minutes by default) and Envoy cannot swap it. With the agent's certificate files
 * ({@link #generate(ProxyNode, ControlPlaneEndpoint, String, String, CertificateFileLayout)}, what {@code septa
 * bootstrap} does) both clusters present the workload's SVID from those files ({@link EnvoySvidFiles}), so a
 * reconnect after the token expired is authenticated by the certificate. Without them (token only), an Envoy that
 * must reconnect after the token expired needs a fresh bootstrap.
 */
public final class EnvoyBootstrapGenerator {
    public static final String XDS_CLUSTER = "septa-xds";
    /** The access-log service (same address as xDS), named by the compiler's inbound access log (policy-compiler). */
    public static final String ALS_CLUSTER = "septa-als";
    private static final Pattern IP_LITERAL = Pattern.compile("^[0-9.]+$|^[0-9a-fA-F:]+$");
    private static final JsonFormat.TypeRegistry TYPES = JsonFormat.TypeRegistry.newBuilder()
            .add(UpstreamTlsContext.getDescriptor()).add(HttpProtocolOptions.getDescriptor()).build();

    private final int adminPort;

    public EnvoyBootstrapGenerator() {
        this(15000);
    }

    /** {@code adminPort}: Envoy's admin endpoint, bound to 127.0.0.1 only. */
    public EnvoyBootstrapGenerator(int adminPort) {
        this.adminPort = adminPort;
    }

    /**
     * @param controlPlaneSpiffeId the identity the control plane's certificate must carry
     *                             ({@code spiffe://<td>/ns/septa-system/sa/control-plane})
     * @param nodeToken            the bearer token minted for this node
     */
    public Bootstrap generate(ProxyNode node, ControlPlaneEndpoint controlPlane, String controlPlaneSpiffeId, String nodeToken) {
        return generate(node, controlPlane, controlPlaneSpiffeId, nodeToken, null);
    }

    /**
     * @param svidFiles where {@code septa agent} keeps the workload's certificate files; when not null, the xDS and
     *                  access-log clusters present that SVID, so reconnects do not depend on the token
     */
    public Bootstrap generate(ProxyNode node, ControlPlaneEndpoint controlPlane, String controlPlaneSpiffeId, String nodeToken,
                              CertificateFileLayout svidFiles) {
        if (controlPlane.trustBundlePem() == null || controlPlane.trustBundlePem().isBlank()) {
            throw new IllegalArgumentException("the Envoy bootstrap needs the trust bundle to verify the control plane");
        }
        ConfigSource ads = ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance())
                .setResourceApiVersion(ApiVersion.V3).build();
        var grpcService = GrpcService.newBuilder()
                .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName(XDS_CLUSTER))
                .addInitialMetadata(HeaderValue.newBuilder().setKey(NodeMetadata.AUTHORIZATION).setValue("Bearer " + nodeToken));
        return Bootstrap.newBuilder()
                .setNode(node(node))
                .setDynamicResources(Bootstrap.DynamicResources.newBuilder()
                        .setAdsConfig(ApiConfigSource.newBuilder().setApiType(ApiConfigSource.ApiType.GRPC)
                                .setTransportApiVersion(ApiVersion.V3).addGrpcServices(grpcService)
                                .setSetNodeOnFirstMessageOnly(true))
                        .setLdsConfig(ads).setCdsConfig(ads))
                .setStaticResources(Bootstrap.StaticResources.newBuilder()
                        .addClusters(xdsCluster(XDS_CLUSTER, controlPlane, controlPlaneSpiffeId,
                                svidFiles == null ? null : EnvoySvidFiles.secretConfig(svidFiles)))
                        .addClusters(xdsCluster(ALS_CLUSTER, controlPlane, controlPlaneSpiffeId,
                                svidFiles == null ? svid(grpcService.build()) : EnvoySvidFiles.secretConfig(svidFiles))))
                .setAdmin(Admin.newBuilder().setAddress(socket("127.0.0.1", adminPort)))
                .build();
    }

    private static Node node(ProxyNode node) {
        var metadata = JsonValues.struct(Map.of(
                NodeMetadata.DIALECT, "envoy",
                NodeMetadata.NAMESPACE, node.namespace(),
                NodeMetadata.SERVICE_ACCOUNT, node.serviceAccount(),
                NodeMetadata.LABELS, node.labels()));
        return Node.newBuilder().setId(node.id()).setCluster(node.namespace()).setMetadata(metadata).build();
    }

    /**
     * The SVID ({@code default}) fetched over SDS on its own stream to {@link #XDS_CLUSTER}, with the node token: the
     * access-log cluster presents it, so the control plane knows which node reports (decision 0002). Used without
     * the agent's files; the xDS cluster itself cannot: it would need the certificate before its first response.
     */
    private static io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig svid(GrpcService xds) {
        return io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig.newBuilder().setName("default")
                .setSdsConfig(ConfigSource.newBuilder().setResourceApiVersion(ApiVersion.V3)
                        .setApiConfigSource(ApiConfigSource.newBuilder().setApiType(ApiConfigSource.ApiType.GRPC)
                                .setTransportApiVersion(ApiVersion.V3).addGrpcServices(xds)))
                .build();
    }

    private static Cluster xdsCluster(String name, ControlPlaneEndpoint controlPlane, String controlPlaneSpiffeId,
                                      io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig clientCertificate) {
        var validation = CertificateValidationContext.newBuilder()
                .setTrustedCa(DataSource.newBuilder().setInlineString(controlPlane.trustBundlePem()))
                .addMatchTypedSubjectAltNames(SubjectAltNameMatcher.newBuilder()
                        .setSanType(SubjectAltNameMatcher.SanType.URI)
                        .setMatcher(StringMatcher.newBuilder().setExact(controlPlaneSpiffeId)));
        var common = CommonTlsContext.newBuilder().setValidationContext(validation).addAlpnProtocols("h2");
        if (clientCertificate != null) {
            common.addTlsCertificateSdsSecretConfigs(clientCertificate);
        }
        var tls = UpstreamTlsContext.newBuilder().setCommonTlsContext(common).build();
        var http2 = HttpProtocolOptions.newBuilder().setExplicitHttpConfig(HttpProtocolOptions.ExplicitHttpConfig.newBuilder()
                .setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance())).build();
        boolean literal = IP_LITERAL.matcher(controlPlane.host()).matches();
        return Cluster.newBuilder()
                .setName(name)
                .setType(literal ? Cluster.DiscoveryType.STATIC : Cluster.DiscoveryType.LOGICAL_DNS)
                .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(1))
                .putTypedExtensionProtocolOptions("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", Any.pack(http2))
                .setLoadAssignment(ClusterLoadAssignment.newBuilder().setClusterName(name)
                        .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(LbEndpoint.newBuilder()
                                .setEndpoint(Endpoint.newBuilder().setAddress(socket(controlPlane.host(), controlPlane.port()))))))
                .setTransportSocket(TransportSocket.newBuilder().setName("envoy.transport_sockets.tls").setTypedConfig(Any.pack(tls)))
                .build();
    }

    private static Address socket(String host, int port) {
        return Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress(host).setPortValue(port)).build();
    }

    /** Envoy reads JSON (and YAML, of which JSON is a subset) bootstraps: {@code envoy -c bootstrap.json}. */
    public static String toJson(Bootstrap bootstrap) {
        try {
            return JsonFormat.printer().usingTypeRegistry(TYPES).print(bootstrap) + "\n";
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }
}
