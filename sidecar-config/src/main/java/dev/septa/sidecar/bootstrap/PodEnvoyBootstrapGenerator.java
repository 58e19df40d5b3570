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
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.grpc_credential.v3.FileBasedMetadataConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.Map;

/**
 * The bootstrap of an injected Envoy sidecar in Kubernetes (decision 0005). Unlike {@link EnvoyBootstrapGenerator}'s,
 * it holds no secret and nothing known only at run time, so the injector can write it into the pod spec:
 * <ul>
 *   <li>node id {@code NS/$(SEPTA_POD_NAME)}: Kubernetes expands the reference in the container's args from the
 *       downward-API variable (a Deployment's pod has no name when it is injected);</li>
 *   <li>the xDS stream is a {@code google_grpc} service whose {@code file_based_metadata} call credentials read the
 *       projected service-account token (audience {@code septa}) on every new stream, so a reconnect after the kubelet
 *       rotated the token sends the fresh one (the static {@code initial_metadata} of the local bootstrap cannot);</li>
 *   <li>the trust bundle is a file from the namespace's trust-bundle ConfigMap, not inline; gRPC's TLS checks the
 *       control plane's certificate for the xDS Service's DNS name;</li>
 *   <li>{@code septa-als} presents the SVID fetched over SDS, as in local mode.</li>
 * </ul>
 */
public final class PodEnvoyBootstrapGenerator {
    public static final String FILE_BASED_METADATA = "envoy.grpc_credentials.file_based_metadata";
    private static final JsonFormat.TypeRegistry TYPES = JsonFormat.TypeRegistry.newBuilder()
            .add(UpstreamTlsContext.getDescriptor()).add(HttpProtocolOptions.getDescriptor())
            .add(FileBasedMetadataConfig.getDescriptor()).build();

    /**
     * @param namespace            the pod's namespace
     * @param podNameReference     what stands for the pod's name, e.g. {@code $(SEPTA_POD_NAME)}
     * @param xdsHost              the control plane's xDS Service DNS name; its certificate must carry it
     * @param tokenFile            the projected service-account token
     * @param trustBundleFile      the trust bundle PEM
     * @param controlPlaneSpiffeId checked on the access-log connection, which uses Envoy's own TLS
     */
    public Bootstrap generate(String namespace, String podNameReference, Map<String, String> labels, String serviceAccount,
                              String xdsHost, int xdsPort, String tokenFile, String trustBundleFile, String controlPlaneSpiffeId) {
        ConfigSource ads = ConfigSource.newBuilder().setAds(AggregatedConfigSource.getDefaultInstance())
                .setResourceApiVersion(ApiVersion.V3).build();
        var tokenCredentials = FileBasedMetadataConfig.newBuilder()
                .setSecretData(DataSource.newBuilder().setFilename(tokenFile))
                .setHeaderKey(NodeMetadata.AUTHORIZATION).setHeaderPrefix("Bearer ").build();
        var xds = GrpcService.newBuilder().setGoogleGrpc(GrpcService.GoogleGrpc.newBuilder()
                .setTargetUri(xdsHost + ":" + xdsPort)
                .setStatPrefix("septa_xds")
                .setChannelCredentials(GrpcService.GoogleGrpc.ChannelCredentials.newBuilder()
                        .setSslCredentials(GrpcService.GoogleGrpc.SslCredentials.newBuilder()
                                .setRootCerts(DataSource.newBuilder().setFilename(trustBundleFile))))
                .setCredentialsFactoryName(FILE_BASED_METADATA)
                .addCallCredentials(GrpcService.GoogleGrpc.CallCredentials.newBuilder()
                        .setFromPlugin(GrpcService.GoogleGrpc.CallCredentials.MetadataCredentialsFromPlugin.newBuilder()
                                .setName(FILE_BASED_METADATA).setTypedConfig(Any.pack(tokenCredentials)))))
                .build();
        var metadata = JsonValues.struct(Map.of(
                NodeMetadata.DIALECT, "envoy",
                NodeMetadata.NAMESPACE, namespace,
                NodeMetadata.SERVICE_ACCOUNT, serviceAccount,
                NodeMetadata.LABELS, labels));
        return Bootstrap.newBuilder()
                .setNode(Node.newBuilder().setId(namespace + "/" + podNameReference).setCluster(namespace).setMetadata(metadata))
                .setDynamicResources(Bootstrap.DynamicResources.newBuilder()
                        .setAdsConfig(ApiConfigSource.newBuilder().setApiType(ApiConfigSource.ApiType.GRPC)
                                .setTransportApiVersion(ApiVersion.V3).addGrpcServices(xds)
                                .setSetNodeOnFirstMessageOnly(true))
                        .setLdsConfig(ads).setCdsConfig(ads))
                .setStaticResources(Bootstrap.StaticResources.newBuilder()
                        .addClusters(alsCluster(xdsHost, xdsPort, trustBundleFile, controlPlaneSpiffeId, xds)))
                .setAdmin(Admin.newBuilder().setAddress(Address.newBuilder().setSocketAddress(
                        SocketAddress.newBuilder().setAddress("127.0.0.1").setPortValue(15000))))
                .build();
    }

    private static Cluster alsCluster(String host, int port, String trustBundleFile, String controlPlaneSpiffeId, GrpcService xds) {
        var svid = SdsSecretConfig.newBuilder().setName("default")
                .setSdsConfig(ConfigSource.newBuilder().setResourceApiVersion(ApiVersion.V3)
                        .setApiConfigSource(ApiConfigSource.newBuilder().setApiType(ApiConfigSource.ApiType.GRPC)
                                .setTransportApiVersion(ApiVersion.V3).addGrpcServices(xds)));
        var validation = CertificateValidationContext.newBuilder()
                .setTrustedCa(DataSource.newBuilder().setFilename(trustBundleFile))
                .addMatchTypedSubjectAltNames(SubjectAltNameMatcher.newBuilder()
                        .setSanType(SubjectAltNameMatcher.SanType.URI)
                        .setMatcher(StringMatcher.newBuilder().setExact(controlPlaneSpiffeId)));
        var tls = UpstreamTlsContext.newBuilder().setCommonTlsContext(CommonTlsContext.newBuilder()
                .setValidationContext(validation).addAlpnProtocols("h2").addTlsCertificateSdsSecretConfigs(svid)).build();
        var http2 = HttpProtocolOptions.newBuilder().setExplicitHttpConfig(HttpProtocolOptions.ExplicitHttpConfig.newBuilder()
                .setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance())).build();
        return Cluster.newBuilder()
                .setName(EnvoyBootstrapGenerator.ALS_CLUSTER)
                .setType(Cluster.DiscoveryType.STRICT_DNS)
                .setConnectTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(1))
                .putTypedExtensionProtocolOptions("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", Any.pack(http2))
                .setLoadAssignment(ClusterLoadAssignment.newBuilder().setClusterName(EnvoyBootstrapGenerator.ALS_CLUSTER)
                        .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(LbEndpoint.newBuilder()
                                .setEndpoint(Endpoint.newBuilder().setAddress(Address.newBuilder().setSocketAddress(
                                        SocketAddress.newBuilder().setAddress(host).setPortValue(port)))))))
                .setTransportSocket(TransportSocket.newBuilder().setName("envoy.transport_sockets.tls").setTypedConfig(Any.pack(tls)))
                .build();
    }

    /** Compact JSON (a valid {@code --config-yaml} value). */
    public static String toJson(Bootstrap bootstrap) {
        try {
            return JsonFormat.printer().usingTypeRegistry(TYPES).preservingProtoFieldNames().omittingInsignificantWhitespace().print(bootstrap);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Parses what {@link #toJson} printed (tests, and anyone checking an injected pod). */
    public static Bootstrap parse(String json) throws InvalidProtocolBufferException {
        var builder = Bootstrap.newBuilder();
        JsonFormat.parser().usingTypeRegistry(TYPES).merge(json, builder);
        return builder.build();
    }
}
