package dev.septa.sidecar.grpc;

import dev.septa.identity.SpiffeId;
import io.grpc.Attributes;
import io.grpc.Grpc;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/** The SPIFFE ID a TLS peer proved: the {@code spiffe://} URI SAN of its leaf certificate. */
public final class PeerIdentities {
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

    /** The certificate's one SPIFFE ID, as authentication reads it ({@link SpiffeId#fromCertificate}). */
    public static Optional<String> spiffeId(X509Certificate certificate) {
        return SpiffeId.fromCertificate(certificate).map(SpiffeId::uri);
    }
}
