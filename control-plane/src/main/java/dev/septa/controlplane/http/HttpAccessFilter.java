package dev.septa.controlplane.http;

import dev.septa.controlplane.auth.HttpAccessToken;
import io.micronaut.context.BeanProvider;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ResponseFilter;
import io.micronaut.http.annotation.ServerFilter;
import io.micronaut.http.cookie.Cookie;
import io.micronaut.http.cookie.SameSite;
import java.net.InetSocketAddress;

/**
 * Authenticates the HTTP API for clients that are not on this machine: by default it listens on loopback only, but
 * {@code --http-address 0.0.0.0} makes status, rotation, the graph and metrics reachable from the network, and none
 * of that may be anonymous. Loopback clients pass; {@code /health} (and its liveness/readiness) stays open for probes; everyone else presents
 * the {@link HttpAccessToken}: {@code Authorization: Bearer TOKEN} (the CLI with {@code --token-file}, Prometheus),
 * or, for a browser, {@code ?token=TOKEN} once, which sets an HttpOnly, SameSite=Strict cookie.
 */
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
public class HttpAccessFilter {
    static final String COOKIE = "septa-token";
    private static final String GRANTED_BY_QUERY = "septa.token.query";

    private final BeanProvider<HttpAccessToken> tokens;

    /** Resolved only when a client off this machine calls (contexts without a state directory serve loopback only). */
    public HttpAccessFilter(BeanProvider<HttpAccessToken> tokens) {
        this.tokens = tokens;
    }

    @RequestFilter
    @Nullable
    public HttpResponse<?> authenticate(HttpRequest<?> request) {
        if (local(request.getRemoteAddress()) || (request.getPath().equals("/health") || request.getPath().startsWith("/health/"))) {
            return null;
        }
        HttpAccessToken token = tokens.get();
        String authorization = request.getHeaders().get(HttpHeaders.AUTHORIZATION);
        if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)
                && token.matches(authorization.substring(7))) {
            return null;
        }
        if (request.getCookies().findCookie(COOKIE).map(c -> token.matches(c.getValue())).orElse(false)) {
            return null;
        }
        if (token.matches(request.getParameters().get("token"))) {
            request.setAttribute(GRANTED_BY_QUERY, Boolean.TRUE);
            return null;
        }
        return HttpResponse.unauthorized().header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"septa\"")
                .contentType(MediaType.TEXT_PLAIN_TYPE)
                .body("the Septa control plane's HTTP API needs its access token from outside this machine: send"
                        + " 'Authorization: Bearer <token>' (septa status/graph/ca rotate --token-file STATE-DIR/http-token),"
                        + " or open the page once with ?token=<token>; the token is in STATE-DIR/http-token on the control plane\n");
    }

    @ResponseFilter
    public void rememberBrowser(HttpRequest<?> request, MutableHttpResponse<?> response) {
        if (request.getAttribute(GRANTED_BY_QUERY).isPresent()) {
            response.cookie(Cookie.of(COOKIE, tokens.get().value()).httpOnly(true).sameSite(SameSite.Strict).path("/"));
        }
    }

    static boolean local(InetSocketAddress remote) {
        return remote != null && remote.getAddress() != null && remote.getAddress().isLoopbackAddress();
    }
}
