package dev.septa.sidecar.bootstrap;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bootstrap a proxyless grpc-java workload reads (env {@code GRPC_XDS_BOOTSTRAP} or system property
 * {@code io.grpc.xds.bootstrapConfig}), once per JVM, before its first xDS channel or server.
 *
 * <ul>
 *   <li>{@code xds_servers}: relayed (the default of {@code septa bootstrap --dialect grpc}): {@code septa agent}'s
 *       socket with {@code insecure} creds. Direct: the control plane, with {@code channel_creds} {@code tls} (gRFC A65) on the agent's files,
 *       so the workload's xDS stream is authenticated by its SVID (decision 0002, option 2). grpc-java 1.85.1 parses
 *       but ignores the A65 config; {@link dev.septa.sidecar.grpc.FileTlsXdsCredentialsProvider} (on the classpath via
 *       sidecar-config) implements it.</li>
 *   <li>{@code node}: id {@code ns/name}, metadata with dialect, labels and service account.</li>
 *   <li>{@code server_listener_resource_name_template}: grpc's default name, which the compiler emits with
 *       {@code 0.0.0.0:PORT} whatever address the server binds.</li>
 *   <li>{@code certificate_providers.septa}: file_watcher on the same files, for workload-to-workload mTLS.</li>
 * </ul>
 */
public final class GrpcBootstrapGenerator {
    /** The certificate provider instance name the compiler's TLS contexts refer to. */
    public static final String CERTIFICATE_PROVIDER_INSTANCE = "septa";
    public static final String SERVER_LISTENER_TEMPLATE = "grpc/server?xds.resource.listening_address=%s";

    private final Duration refreshInterval;

    public GrpcBootstrapGenerator() {
        this(Duration.ofSeconds(1));
    }

    /** {@code refreshInterval}: how often grpc re-reads the PEM files (a stat per file; rotation shows up within it). */
    public GrpcBootstrapGenerator(Duration refreshInterval) {
        this.refreshInterval = refreshInterval;
    }

    /** The direct shape: the workload's own xDS channel speaks mTLS to the control plane (A65 {@code tls} creds). */
    public Map<String, Object> generateMap(ProxyNode node, ControlPlaneEndpoint controlPlane, CertificateFileLayout files) {
        var tls = new LinkedHashMap<String, Object>();
        tls.put("type", "tls");
        tls.put("config", fileConfig(files));
        return generateMap(node, controlPlane.authority(), tls, files);
    }

    /**
     * The relayed shape, which needs no Septa classes in the workload and suits every gRPC implementation:
     * {@code channel_creds} {@code insecure} to {@code septa agent}'s local relay ({@code unix:/abs/path/xds.sock}, or
     * a loopback {@code host:port}), which speaks mTLS to the control plane for this node only.
     */
    public Map<String, Object> generateRelayedMap(ProxyNode node, String relayUri, CertificateFileLayout files) {
        return generateMap(node, relayUri, Map.of("type", "insecure"), files);
    }

    /** {@code unix:} URI of a relay socket: an absolute path, which grpc-java and the C-core both resolve. */
    public static String unixUri(java.nio.file.Path socket) {
        return "unix:" + socket.toAbsolutePath().normalize();
    }

    private Map<String, Object> fileConfig(CertificateFileLayout files) {
        var fileConfig = new LinkedHashMap<String, Object>();
        fileConfig.put("certificate_file", files.cert().toString());
        fileConfig.put("private_key_file", files.key().toString());
        fileConfig.put("ca_certificate_file", files.ca().toString());
        fileConfig.put("refresh_interval", refreshInterval.toSeconds() + "s");
        return fileConfig;
    }

    private Map<String, Object> generateMap(ProxyNode node, String serverUri, Map<String, Object> channelCreds,
                                            CertificateFileLayout files) {
        var server = new LinkedHashMap<String, Object>();
        server.put("server_uri", serverUri);
        server.put("channel_creds", List.of(channelCreds));
        server.put("server_features", List.of("xds_v3"));

        var metadata = new LinkedHashMap<String, Object>();
        metadata.put(NodeMetadata.DIALECT, "grpc");
        metadata.put(NodeMetadata.NAMESPACE, node.namespace());
        metadata.put(NodeMetadata.SERVICE_ACCOUNT, node.serviceAccount());
        metadata.put(NodeMetadata.LABELS, node.labels());

        var nodeJson = new LinkedHashMap<String, Object>();
        nodeJson.put("id", node.id());
        nodeJson.put("cluster", node.namespace());
        nodeJson.put("metadata", metadata);

        var bootstrap = new LinkedHashMap<String, Object>();
        bootstrap.put("xds_servers", List.of(server));
        bootstrap.put("node", nodeJson);
        bootstrap.put("server_listener_resource_name_template", SERVER_LISTENER_TEMPLATE);
        var watcher = new LinkedHashMap<String, Object>();
        watcher.put("plugin_name", "file_watcher");
        watcher.put("config", fileConfig(files));
        bootstrap.put("certificate_providers", Map.of(CERTIFICATE_PROVIDER_INSTANCE, watcher));
        return bootstrap;
    }

    /** The direct bootstrap as JSON text. */
    public String generate(ProxyNode node, ControlPlaneEndpoint controlPlane, CertificateFileLayout files) {
        return JsonValues.json(generateMap(node, controlPlane, files));
    }

    /** The relayed bootstrap as JSON text. */
    public String generateRelayed(ProxyNode node, String relayUri, CertificateFileLayout files) {
        return JsonValues.json(generateRelayedMap(node, relayUri, files));
    }
}
