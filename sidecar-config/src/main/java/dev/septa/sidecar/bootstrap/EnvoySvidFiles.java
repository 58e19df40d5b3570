package dev.septa.sidecar.bootstrap;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.PathConfigSource;
import io.envoyproxy.envoy.config.core.v3.WatchedDirectory;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;

/**
 * How an Envoy sidecar presents its own SVID to the control plane: the certificate files {@code septa agent} keeps
 * fresh ({@link CertificateFileLayout}), read through Envoy's file-based SDS. {@code envoy-sds.json} holds one
 * {@link Secret} naming {@code cert.pem} and {@code key.pem}; Envoy watches the directory and re-reads the pair
 * when the agent's atomic {@code ..data} symlink swap lands (Envoy's documented rotation for Kubernetes-style
 * secret volumes). So the xDS connection outlives the bootstrap's short-lived node token: the token opens the
 * first stream, and every later reconnect is authenticated by the certificate (decision 0002, option 2).
 */
public final class EnvoySvidFiles {
    /** The secret's name inside {@code envoy-sds.json}. */
    public static final String SECRET = "septa-svid";

    private EnvoySvidFiles() {
    }

    /** What the bootstrap's clusters reference: {@link #SECRET} from {@code envoy-sds.json}, watched in its directory. */
    public static SdsSecretConfig secretConfig(CertificateFileLayout layout) {
        return SdsSecretConfig.newBuilder().setName(SECRET)
                .setSdsConfig(ConfigSource.newBuilder().setResourceApiVersion(ApiVersion.V3)
                        .setPathConfigSource(PathConfigSource.newBuilder().setPath(layout.envoySds().toString())
                                .setWatchedDirectory(WatchedDirectory.newBuilder().setPath(layout.dir().toString()))))
                .build();
    }

    /** The content of {@code envoy-sds.json}: a discovery response with the one secret, by file name. */
    public static DiscoveryResponse resource(CertificateFileLayout layout) {
        Secret secret = Secret.newBuilder().setName(SECRET).setTlsCertificate(TlsCertificate.newBuilder()
                .setCertificateChain(DataSource.newBuilder().setFilename(layout.cert().toString()))
                .setPrivateKey(DataSource.newBuilder().setFilename(layout.key().toString()))
                .setWatchedDirectory(WatchedDirectory.newBuilder().setPath(layout.dir().toString()))).build();
        return DiscoveryResponse.newBuilder().addResources(Any.pack(secret)).build();
    }

    public static String json(CertificateFileLayout layout) {
        try {
            return JsonFormat.printer().usingTypeRegistry(JsonFormat.TypeRegistry.newBuilder().add(Secret.getDescriptor()).build())
                    .print(resource(layout)) + "\n";
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }
}
