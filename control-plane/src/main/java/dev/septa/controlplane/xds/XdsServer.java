package dev.septa.controlplane.xds;

import dev.septa.identity.KeyedCertificate;
import dev.septa.identity.PemReader;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The xDS endpoint: ADS (state of the world and delta) and SDS over TLS. Client certificates are requested, not
 * required (decision 0002): a workload without its first certificate authenticates with a node token. The serving
 * certificate and trust bundle can be replaced while running ({@link #updateCredentials}).
 */
public final class XdsServer implements AutoCloseable {
    /** Concurrent streams one client connection may hold open; beyond that the client waits (HTTP/2 flow control). */
    public static final int MAX_CALLS_PER_CONNECTION = 100;

    private final Server server;
    private final AdvancedTlsX509KeyManager keyManager = new AdvancedTlsX509KeyManager();
    private final AdvancedTlsX509TrustManager trustManager;

    public XdsServer(InetSocketAddress bind, ProxyConfigCache cache, StreamAuthInterceptor auth,
                     StreamAuthorizer authorizer, KeyedCertificate serving, String trustBundlePem) {
        this(bind, cache, auth, authorizer, serving, trustBundlePem, List.of());
    }

    /**
     * @param extraServices served next to ADS and SDS with the same TLS and authentication (the access-log
     *                      receiver, so workloads report with the address and credentials they use for xDS)
     */
    public XdsServer(InetSocketAddress bind, ProxyConfigCache cache, StreamAuthInterceptor auth,
                     StreamAuthorizer authorizer, KeyedCertificate serving, String trustBundlePem,
                     List<BindableService> extraServices) {
        try {
            trustManager = AdvancedTlsX509TrustManager.newBuilder()
                    .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION).build();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        updateCredentials(serving, trustBundlePem);
        TlsServerCredentials.Builder tls = TlsServerCredentials.newBuilder()
                .keyManager(keyManager)
                .trustManager(trustManager)
                .clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL);
        V3DiscoveryServer discovery = new V3DiscoveryServer(List.of(authorizer), cache,
                new io.envoyproxy.controlplane.server.DefaultExecutorGroup(), new PackedResourceSerializer());
        NettyServerBuilder builder = NettyServerBuilder.forAddress(bind, tls.build())
                .addService(ServerInterceptors.intercept(discovery.getAggregatedDiscoveryServiceImpl(), auth))
                .addService(ServerInterceptors.intercept(discovery.getSecretDiscoveryServiceImpl(), auth));
        extraServices.forEach(s -> builder.addService(ServerInterceptors.intercept(s, auth)));
        this.server = builder
                .permitKeepAliveTime(10, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                // One connection may not open streams without end (each can cost a token review and a session);
                // a workload uses a handful (ADS per xDS target, SDS, access logs).
                .maxConcurrentCallsPerConnection(MAX_CALLS_PER_CONNECTION)
                .maxInboundMessageSize(16 * 1024 * 1024)
                .build();
    }

    public void updateCredentials(KeyedCertificate serving, String trustBundlePem) {
        try {
            keyManager.updateIdentityCredentials(serving.certificateChain(), serving.privateKey());
            trustManager.updateTrustCredentials(
                    PemReader.certificates(trustBundlePem, "trust bundle").toArray(X509Certificate[]::new));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot install the xDS server's credentials: " + e.getMessage(), e);
        }
    }

    public XdsServer start() throws IOException {
        server.start();
        return this;
    }

    public int port() {
        return ((InetSocketAddress) server.getListenSockets().getFirst()).getPort();
    }

    @Override
    public void close() {
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
