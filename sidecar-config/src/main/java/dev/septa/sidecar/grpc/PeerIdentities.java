package dev.septa.sidecar.grpc;

import io.grpc.Attributes;
import io.grpc.Grpc;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/** The SPIFFE ID a TLS peer proved: the {@code spiffe://} URI SAN of its leaf certificate. */
public final class PeerIdentities {
    private static final int URI_SAN = 6;

    private PeerIdentities() {
    }

    /** From a call's transport attributes ({@code ServerCall.getAttributes()} or {@code ClientCall.getAttributes()}). */
    public static Optional<String> spiffeId(Attributes transportAttributes) {
        if (transportAttributes == null) {
            return Optional.empty();
        }
        SSLSession session = transportAttributes.get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        if (session == null) {
            return Optional.empty();
        }
        try {
            Certificate[] chain = session.getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate leaf ? spiffeId(leaf) : Optional.empty();
        } catch (SSLPeerUnverifiedException e) {
            return Optional.empty();
        }
    }

    public static Optional<String> spiffeId(X509Certificate certificate) {
        try {
            var sans = certificate.getSubjectAlternativeNames();
            if (sans == null) {
                return Optional.empty();
            }
            for (List<?> san : sans) {
                if (san.size() >= 2 && Integer.valueOf(URI_SAN).equals(san.get(0))
                        && san.get(1) instanceof String uri && uri.startsWith("spiffe://")) {
                    return Optional.of(uri);
                }
            }
            return Optional.empty();
        } catch (CertificateParsingException e) {
            return Optional.empty();
        }
    }
}
