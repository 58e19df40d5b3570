package dev.septa.policy.emit;

import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateProviderPluginInstance;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import com.google.protobuf.BoolValue;
import java.util.List;

/**
 * mTLS transport sockets. Envoy gets its SVID ({@code default}) and trust bundle ({@code ROOTCA}) over SDS on the
 * ADS stream; grpc-java reads both from the {@code septa} certificate-provider instance (file_watcher, fed by
 * {@code septa agent}). Client certificates are required when the mesh's mtls is Strict, since RBAC principals
 * come from them.
 */
public final class TlsConfigurer {
    public static final String SVID_SECRET = "default";
    public static final String ROOT_SECRET = "ROOTCA";
    public static final String PROVIDER_INSTANCE = "septa";

    private TlsConfigurer() { }

    private static CommonTlsContext.Builder envoyCommon() {
        return CommonTlsContext.newBuilder()
                .addTlsCertificateSdsSecretConfigs(SdsSecretConfig.newBuilder().setName(SVID_SECRET).setSdsConfig(ProtoBuilders.ADS))
                .setValidationContextSdsSecretConfig(SdsSecretConfig.newBuilder().setName(ROOT_SECRET).setSdsConfig(ProtoBuilders.ADS));
    }

    public static TransportSocket envoyDownstream(boolean requireClientCertificate, List<String> alpn) {
        return ProtoBuilders.tls(DownstreamTlsContext.newBuilder()
                .setCommonTlsContext(envoyCommon().addAllAlpnProtocols(alpn))
                .setRequireClientCertificate(BoolValue.of(requireClientCertificate)).build());
    }

    /** Upstream mTLS that also checks the server presents one of the service members' SPIFFE IDs. */
    public static TransportSocket envoyUpstream(String sni, List<String> identities, List<String> alpn) {
        CommonTlsContext.Builder common = CommonTlsContext.newBuilder()
                .addTlsCertificateSdsSecretConfigs(SdsSecretConfig.newBuilder().setName(SVID_SECRET).setSdsConfig(ProtoBuilders.ADS))
                .addAllAlpnProtocols(alpn);
        CertificateValidationContext.Builder sans = CertificateValidationContext.newBuilder();
        for (String id : identities) {
            sans.addMatchTypedSubjectAltNames(SubjectAltNameMatcher.newBuilder()
                    .setSanType(SubjectAltNameMatcher.SanType.URI).setMatcher(StringMatcher.newBuilder().setExact(id)));
        }
        common.setCombinedValidationContext(CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
                .setDefaultValidationContext(sans)
                .setValidationContextSdsSecretConfig(SdsSecretConfig.newBuilder().setName(ROOT_SECRET).setSdsConfig(ProtoBuilders.ADS)));
        return ProtoBuilders.tls(UpstreamTlsContext.newBuilder().setCommonTlsContext(common).setSni(sni).build());
    }

    private static CommonTlsContext.Builder grpcCommon() {
        return CommonTlsContext.newBuilder()
                .setTlsCertificateProviderInstance(CertificateProviderPluginInstance.newBuilder().setInstanceName(PROVIDER_INSTANCE))
                .setValidationContext(CertificateValidationContext.newBuilder()
                        .setCaCertificateProviderInstance(CertificateProviderPluginInstance.newBuilder().setInstanceName(PROVIDER_INSTANCE)));
    }

    public static TransportSocket grpcDownstream(boolean requireClientCertificate) {
        return ProtoBuilders.tls(DownstreamTlsContext.newBuilder().setCommonTlsContext(grpcCommon())
                .setRequireClientCertificate(BoolValue.of(requireClientCertificate)).build());
    }

    /**
     * Upstream mTLS for grpc-java that also checks the server presents one of the service members' SPIFFE IDs.
     * grpc-java implements {@code match_subject_alt_names} (gRFC A29), not yet the typed variant Envoy prefers.
     */
    @SuppressWarnings("deprecation")
    public static TransportSocket grpcUpstream(List<String> identities) {
        CertificateValidationContext.Builder validation = CertificateValidationContext.newBuilder()
                .setCaCertificateProviderInstance(CertificateProviderPluginInstance.newBuilder().setInstanceName(PROVIDER_INSTANCE));
        for (String id : identities) {
            validation.addMatchSubjectAltNames(StringMatcher.newBuilder().setExact(id));
        }
        return ProtoBuilders.tls(UpstreamTlsContext.newBuilder().setCommonTlsContext(CommonTlsContext.newBuilder()
                .setTlsCertificateProviderInstance(CertificateProviderPluginInstance.newBuilder().setInstanceName(PROVIDER_INSTANCE))
                .setValidationContext(validation)).build());
    }
}
