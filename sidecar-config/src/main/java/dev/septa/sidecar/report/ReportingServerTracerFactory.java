package dev.septa.sidecar.report;

import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.RequestMethod;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.envoyproxy.envoy.data.accesslog.v3.TLSProperties;
import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;

import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import java.net.InetSocketAddress;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Access logs for a proxyless gRPC server, which has no Envoy to write them: install it with
 * {@code serverBuilder.addStreamTracerFactory(...)} (also on grpc-xds's {@code XdsServerBuilder}). A stream
 * tracer sees every call, including those the xDS RBAC filter refuses before any service code runs, and
 * {@code serverCallStarted} hands it the transport attributes: the peer and local addresses and the TLS session,
 * whose peer certificate carries the caller's SPIFFE ID. Each finished call becomes an
 * {@code HTTPAccessLogEntry} shaped like Envoy's, queued on the {@link AccessLogReporter}.
 *
 * <p>grpc-java's RBAC refuses with {@code PERMISSION_DENIED: Access Denied} and says nothing of the matching
 * policy, so such a call is logged with response code details {@value #RBAC_DENIED_DETAILS}; the control plane
 * names the deciding intent by evaluating the compiled RBAC.
 */
public final class ReportingServerTracerFactory extends ServerStreamTracer.Factory {
    /** The details Envoy's RBAC filter uses as the prefix of its own denial details. */
    public static final String RBAC_DENIED_DETAILS = "rbac_access_denied";
    static final String GRPC_RBAC_DENIAL = "Access Denied";

    private final AccessLogReporter reporter;
    private final Clock clock;

    public ReportingServerTracerFactory(AccessLogReporter reporter) {
        this(reporter, Clock.systemUTC());
    }

    ReportingServerTracerFactory(AccessLogReporter reporter, Clock clock) {
        this.reporter = reporter;
        this.clock = clock;
    }

    @Override
    public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
        return new CallTracer(fullMethodName, clock.instant(), System.nanoTime());
    }

    private final class CallTracer extends ServerStreamTracer {
        private final String fullMethodName;
        private final Instant start;
        private final long startNanos;
        private volatile Attributes attributes;
        private volatile boolean answered;

        CallTracer(String fullMethodName, Instant start, long startNanos) {
            this.fullMethodName = fullMethodName;
            this.start = start;
            this.startNanos = startNanos;
        }

        @Override
        public void serverCallStarted(ServerCallInfo<?, ?> callInfo) {
            attributes = callInfo.getAttributes();
        }

        @Override
        public void outboundMessage(int seqNo) {
            answered = true; // the service answered: the call got past every interceptor, the RBAC included
        }

        @Override
        public void streamClosed(Status status) {
            Attributes a = attributes;
            if (a == null) {
                return; // the call never started (unknown method, transport failure): no peer to report
            }
            if (!answered && (status.getCode() == Status.Code.CANCELLED || status.getCode() == Status.Code.DEADLINE_EXCEEDED)) {
                // The caller went away (or its deadline passed) before the server judged the call: the RBAC's refusal,
                // if any, lost the race to the cancellation. No policy decision to report; it would read as allowed.
                return;
            }
            try {
                reporter.offer(entry(a, status));
            } catch (RuntimeException e) {
                // never let reporting fail a call
            }
        }

        private HTTPAccessLogEntry entry(Attributes a, Status status) {
            long nanos = System.nanoTime() - startNanos;
            AccessLogCommon.Builder c = AccessLogCommon.newBuilder()
                    .setSampleRate(1.0)
                    .setStartTime(Timestamp.newBuilder().setSeconds(start.getEpochSecond()).setNanos(start.getNano()))
                    .setDuration(Duration.newBuilder().setSeconds(nanos / 1_000_000_000L).setNanos((int) (nanos % 1_000_000_000L)));
            address(a.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR), c::setDownstreamRemoteAddress);
            address(a.get(Grpc.TRANSPORT_ATTR_LOCAL_ADDR), c::setDownstreamLocalAddress);
            SSLSession tls = a.get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
            if (tls != null) {
                c.setTlsProperties(tls(tls));
            }
            boolean rbacDenied = status.getCode() == Status.Code.PERMISSION_DENIED
                    && status.getDescription() != null && status.getDescription().startsWith(GRPC_RBAC_DENIAL);
            return HTTPAccessLogEntry.newBuilder()
                    .setCommonProperties(c)
                    .setProtocolVersion(HTTPAccessLogEntry.HTTPVersion.HTTP2)
                    .setRequest(HTTPRequestProperties.newBuilder()
                            .setRequestMethod(RequestMethod.POST)
                            .setScheme(tls != null ? "https" : "http")
                            .setPath("/" + fullMethodName))
                    .setResponse(HTTPResponseProperties.newBuilder()
                            .setResponseCode(UInt32Value.of(200)) // gRPC answers HTTP 200; the outcome is grpc-status
                            .setResponseCodeDetails(rbacDenied ? RBAC_DENIED_DETAILS : "via_upstream")
                            .putResponseTrailers("grpc-status", Integer.toString(status.getCode().value())))
                    .build();
        }
    }

    private static void address(java.net.SocketAddress addr, java.util.function.Consumer<Address> set) {
        if (addr instanceof InetSocketAddress in && in.getAddress() != null) {
            set.accept(Address.newBuilder().setSocketAddress(SocketAddress.newBuilder()
                    .setAddress(in.getAddress().getHostAddress()).setPortValue(in.getPort())).build());
        }
    }

    static TLSProperties tls(SSLSession session) {
        TLSProperties.Builder t = TLSProperties.newBuilder();
        switch (session.getProtocol()) {
            case "TLSv1.3" -> t.setTlsVersion(TLSProperties.TLSVersion.TLSv1_3);
            case "TLSv1.2" -> t.setTlsVersion(TLSProperties.TLSVersion.TLSv1_2);
            default -> { }
        }
        try {
            Certificate[] peer = session.getPeerCertificates();
            if (peer.length > 0 && peer[0] instanceof X509Certificate leaf) {
                var props = TLSProperties.CertificateProperties.newBuilder()
                        .setSubject(leaf.getSubjectX500Principal().getName())
                        .setIssuer(leaf.getIssuerX500Principal().getName());
                for (String uri : uriSans(leaf)) {
                    props.addSubjectAltName(TLSProperties.CertificateProperties.SubjectAltName.newBuilder().setUri(uri));
                }
                t.setPeerCertificateProperties(props);
            }
        } catch (SSLPeerUnverifiedException e) {
            // no client certificate (permissive mTLS): the caller is known by address only
        }
        return t.build();
    }

    /** The certificate's URI SANs (type 6), where a SPIFFE ID lives. */
    static List<String> uriSans(X509Certificate cert) {
        List<String> out = new ArrayList<>();
        try {
            Collection<List<?>> sans = cert.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if (san.size() >= 2 && Integer.valueOf(6).equals(san.get(0)) && san.get(1) instanceof String s) {
                        out.add(s);
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // an unreadable SAN extension names no one
        }
        return out;
    }
}
