package dev.septa.controlplane.xds;

import dev.septa.controlplane.auth.NodeTokens;
import dev.septa.controlplane.auth.ServiceAccountTokens;
import dev.septa.controlplane.auth.Principal;
import dev.septa.identity.SpiffeId;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Authenticates every xDS/SDS call (decision 0002): a node token in {@code authorization: Bearer ...}, or a client
 * certificate issued by Septa's CA (the TLS handshake already verified its chain). No credential, or a bad one,
 * ends the call with UNAUTHENTICATED before any request is read. The principal then lives in the call's
 * {@link StreamSession}, where {@link StreamAuthorizer} checks each request against it.
 */
public final class StreamAuthInterceptor implements ServerInterceptor {
    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final NodeTokens tokens;
    private final ProxyConfigCache cache;
    private final ServiceAccountTokens serviceAccounts;

    public StreamAuthInterceptor(NodeTokens tokens, ProxyConfigCache cache) {
        this(tokens, cache, null);
    }

    /** {@code serviceAccounts}: Kubernetes mode's TokenReview, for bearer tokens that are not Septa node tokens; may be null. */
    public StreamAuthInterceptor(NodeTokens tokens, ProxyConfigCache cache, ServiceAccountTokens serviceAccounts) {
        this.tokens = tokens;
        this.cache = cache;
        this.serviceAccounts = serviceAccounts;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        Principal principal;
        try {
            principal = authenticate(call, headers);
        } catch (AuthException e) {
            call.close(Status.UNAUTHENTICATED.withDescription(e.getMessage()), new Metadata());
            return new ServerCall.Listener<>() { };
        }
        StreamSession session = new StreamSession(principal);
        RevocableCall<Q, R> revocable = new RevocableCall<>(call);
        session.revoker(revocable::revoke);
        Context context = Context.current().withValue(StreamSession.KEY, session);
        ServerCall.Listener<Q> delegate = Contexts.interceptCall(context, revocable, headers, next);
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
            @Override
            public void onComplete() {
                try {
                    super.onComplete();
                } finally {
                    cache.close(session);
                }
            }

            @Override
            public void onCancel() {
                try {
                    super.onCancel();
                } finally {
                    cache.close(session);
                }
            }
        };
    }

    /**
     * A valid token wins (it names exactly one node). A token that no longer verifies is passed over when the client
     * also presented a certificate from Septa's CA: an Envoy keeps the token of its bootstrap for life, and
     * reconnects after it expired with the SVID from the agent's files.
     */
    private Principal authenticate(ServerCall<?, ?> call, Metadata headers) throws AuthException {
        String spiffeId = peerSpiffeId(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
        String authorization = headers.get(AUTHORIZATION);
        if (authorization != null) {
            if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
                throw new AuthException("authorization must be 'Bearer <node token>'");
            }
            String bearer = authorization.substring(7).strip();
            if (serviceAccounts != null && !bearer.startsWith(NodeTokens.PREFIX)) {
                Principal account = reviewed(bearer);
                if (account != null) {
                    return account;
                }
                if (spiffeId == null) {
                    throw new AuthException("service account token rejected by the Kubernetes API server (TokenReview,"
                            + " audience " + ServiceAccountTokens.AUDIENCE + ")");
                }
            } else {
                try {
                    NodeTokens.Claims claims = tokens.verify(bearer);
                    return new Principal.NodeToken(claims.subject(), claims.expiresAt());
                } catch (NodeTokens.InvalidTokenException e) {
                    if (spiffeId == null) {
                        throw new AuthException("node token rejected: " + e.getMessage()
                                + "; mint a fresh one with 'septa bootstrap --workload NS/NAME'");
                    }
                }
            }
        }
        if (spiffeId != null) {
            return new Principal.Certificate(spiffeId);
        }
        throw new AuthException("no credential: send 'authorization: Bearer <node token>' "
                + "or present a client certificate issued by Septa's CA");
    }

    /** The service account a projected token names, or null when the API server does not vouch for it. */
    private Principal reviewed(String bearer) throws AuthException {
        try {
            return serviceAccounts.review(bearer)
                    .map(a -> (Principal) new Principal.ServiceAccountToken(a.namespace(), a.name(), a.podName(), a.podUid()))
                    .orElse(null);
        } catch (ServiceAccountTokens.ReviewException e) {
            throw new AuthException(e.getMessage() + "; retry when the API server is reachable");
        }
    }

    static String peerSpiffeId(SSLSession ssl) {
        if (ssl == null) {
            return null;
        }
        try {
            Certificate[] chain = ssl.getPeerCertificates();
            if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
                return null;
            }
            // The strict rule of an X.509-SVID: exactly one spiffe:// URI SAN, of Septa's form.
            return SpiffeId.fromCertificate(leaf).map(SpiffeId::uri).orElse(null);
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }

    private static final class AuthException extends Exception {
        AuthException(String message) {
            super(message);
        }
    }
}
