package dev.septa.controlplane.graph;

import com.google.protobuf.Struct;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.RequestMethod;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.envoyproxy.envoy.data.accesslog.v3.TLSProperties;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;

import java.util.Map;

/**
 * Access-log entries shaped the way Envoy's http_grpc access logger fills them for an inbound listener with
 * Septa's two RBAC filters ({@code rules_stat_prefix} {@code septa_deny_} / {@code septa_allow_}, decision 0001).
 */
final class EnvoyEntries {
    private EnvoyEntries() {
    }

    static Address addr(String ip, int port) {
        return Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port)).build();
    }

    static Metadata rbac(Map<String, String> fields) {
        Struct.Builder s = Struct.newBuilder();
        fields.forEach((k, v) -> s.putFields(k, Value.newBuilder().setStringValue(v).build()));
        return Metadata.newBuilder().putFilterMetadata(RbacDecisionReader.HTTP_RBAC, s.build()).build();
    }

    static HTTPAccessLogEntry http(String peerSpiffe, String peerIp, String localIp, int port, Metadata md,
                                   int code, String details, String path) {
        AccessLogCommon.Builder c = AccessLogCommon.newBuilder()
                .setSampleRate(1.0)
                .setDownstreamRemoteAddress(addr(peerIp, 40000 + port % 1000))
                .setDownstreamDirectRemoteAddress(addr(peerIp, 40000 + port % 1000))
                .setDownstreamLocalAddress(addr(localIp, port))
                .setMetadata(md)
                .setRouteName("inbound|" + port);
        if (peerSpiffe != null) {
            c.setTlsProperties(TLSProperties.newBuilder()
                    .setTlsVersion(TLSProperties.TLSVersion.TLSv1_3)
                    .setPeerCertificateProperties(TLSProperties.CertificateProperties.newBuilder()
                            .addSubjectAltName(TLSProperties.CertificateProperties.SubjectAltName.newBuilder().setUri(peerSpiffe))));
        }
        return HTTPAccessLogEntry.newBuilder()
                .setCommonProperties(c)
                .setProtocolVersion(HTTPAccessLogEntry.HTTPVersion.HTTP2)
                .setRequest(HTTPRequestProperties.newBuilder().setRequestMethod(RequestMethod.POST).setScheme("https")
                        .setAuthority("payments.shop:" + port).setPath(path).setUserAgent("grpc-java-netty"))
                .setResponse(HTTPResponseProperties.newBuilder().setResponseCode(UInt32Value.of(code))
                        .setResponseCodeDetails(details))
                .build();
    }

    /** An allowed gRPC call: the deny filter matched nothing, the allow filter matched {@code intent}. */
    static HTTPAccessLogEntry allowed(String peerSpiffe, String peerIp, String intent) {
        return http(peerSpiffe, peerIp, "127.0.1.3", 8443, rbac(Map.of(
                        "septa_deny_enforced_engine_result", "allowed",
                        "septa_allow_enforced_engine_result", "allowed",
                        "septa_allow_enforced_effective_policy_id", intent)),
                200, "via_upstream", "/shop.Payments/Charge");
    }

    /** A gRPC call the allow filter refused (no policy matched): Envoy answers HTTP 200 with grpc-status 7. */
    static HTTPAccessLogEntry deniedByDefault(String peerSpiffe, String peerIp, String wouldDenyBy) {
        var fields = new java.util.HashMap<>(Map.of(
                "septa_deny_enforced_engine_result", "allowed",
                "septa_allow_enforced_engine_result", "denied"));
        if (wouldDenyBy != null) {
            fields.put("septa_deny_shadow_engine_result", "denied");
            fields.put("septa_deny_shadow_effective_policy_id", wouldDenyBy);
        }
        return http(peerSpiffe, peerIp, "127.0.1.3", 8443, rbac(fields), 200,
                "rbac_access_denied_matched_policy[none]", "/shop.Payments/Charge?x=1");
    }

    static StreamAccessLogsMessage first(String nodeId, HTTPAccessLogEntry... entries) {
        return StreamAccessLogsMessage.newBuilder()
                .setIdentifier(StreamAccessLogsMessage.Identifier.newBuilder()
                        .setNode(Node.newBuilder().setId(nodeId).setCluster("payments"))
                        .setLogName("septa.inbound"))
                .setHttpLogs(StreamAccessLogsMessage.HTTPAccessLogEntries.newBuilder().addAllLogEntry(java.util.List.of(entries)))
                .build();
    }

    static StreamAccessLogsMessage next(HTTPAccessLogEntry... entries) {
        return StreamAccessLogsMessage.newBuilder()
                .setHttpLogs(StreamAccessLogsMessage.HTTPAccessLogEntries.newBuilder().addAllLogEntry(java.util.List.of(entries)))
                .build();
    }
}
