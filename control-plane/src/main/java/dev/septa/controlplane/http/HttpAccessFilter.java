package dev.septa.controlplane.http;

import dev.septa.controlplane.auth.HttpAccessToken;
import io.micronaut.context.BeanProvider;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpMethod;
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
import java.net.URI;
import java.util.Locale;
import java.util.Set;

/**
 * Authenticates the HTTP API. The token ({@link HttpAccessToken}) is needed:
 * <ul>
 * <li>for every state-changing request (anything but GET/HEAD/OPTIONS: {@code POST /api/ca/rotate}), from anyone,
 *     and only as {@code Authorization: Bearer TOKEN}: a loopback address proves nothing about who is calling (any
 *     local user, or a browser page of any site that POSTs to 127.0.0.1, needs no preflight for a plain POST), and
 *     a cookie would ride along on a request another local page makes;</li>
 * <li>for reading, unless the client is on this machine's loopback <em>and</em> names it: {@code Host} is
 *     {@code localhost}, {@code 127.0.0.1} or {@code [::1]} and an {@code Origin}, if any, is one of those. A page
 *     of another site that re-binds its DNS name to 127.0.0.1 sends its own name as Host and Origin, so it is
 *     refused. {@code /health} stays open for probes.</li>
 * </ul>
 * From another machine ({@code --http-address 0.0.0.0}) a browser opens the page once with {@code ?token=TOKEN},
 * which sets an HttpOnly, SameSite=Strict cookie for its reads. A refused local client is told where the token
 * file is ({@value #TOKEN_FILE_HEADER}), so the CLI of the same user can read it and retry; the path is no secret,
 * the file is owner-only.
 */
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
public class HttpAccessFilter {
    static final String COOKIE = "septa-token";
    /** Response header naming the token file, sent to refused loopback clients (the CLI follows it). */
    public static final String TOKEN_FILE_HEADER = "Septa-Token-File";
    private static final String GRANTED_BY_QUERY = "septa.token.query";
    private static final Set<HttpMethod> READS = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS);
    private static final Set<String> LOCAL_HOSTS = Set.of("localhost", "127.0.0.1", "[::1]");

    private final BeanProvider<HttpAccessToken> tokens;

    /** Resolved only when a request needs the token (contexts without a state directory serve local reads only). */
    public HttpAccessFilter(BeanProvider<HttpAccessToken> tokens) {
        this.tokens = tokens;
    }

    @RequestFilter
    @Nullable
    public HttpResponse<?> authenticate(HttpRequest<?> request) {
        boolean read = READS.contains(request.getMethod());
        if (read && (request.getPath().equals("/health") || request.getPath().startsWith("/health/"))) {
            return null;
        }
        boolean local = local(request.getRemoteAddress()) && localHost(request.getHeaders().get(HttpHeaders.HOST))
                && localOrigin(request.getHeaders().get(HttpHeaders.ORIGIN));
        if (read && local) {
            return null;
        }
        HttpAccessToken token = tokens.get();
        String authorization = request.getHeaders().get(HttpHeaders.AUTHORIZATION);
        if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)
                && token.matches(authorization.substring(7))) {
            return null;
        }
        if (read) {
            if (request.getCookies().findCookie(COOKIE).map(c -> token.matches(c.getValue())).orElse(false)) {
                return null;
            }
            if (token.matches(request.getParameters().get("token"))) {
                request.setAttribute(GRANTED_BY_QUERY, Boolean.TRUE);
                return null;
            }
        }
        MutableHttpResponse<String> refused = HttpResponse.<String>unauthorized()
                .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"septa\"")
                .contentType(MediaType.TEXT_PLAIN_TYPE)
                .body((read ? "the Septa control plane's HTTP API needs its access token from outside this machine"
                                + " (or from a Host other than localhost, 127.0.0.1, [::1]): send"
                        : request.getMethod() + " changes the control plane's state and needs its access token from"
                                + " every client: send")
                        + " 'Authorization: Bearer <token>' (septa status/graph/ca rotate --token-file STATE-DIR/http-token)"
                        + (read ? ", or open the page once with ?token=<token>" : "")
                        + "; the token is in STATE-DIR/http-token on the control plane\n");
        if (local(request.getRemoteAddress()) && token.file() != null) {
            refused.header(TOKEN_FILE_HEADER, token.file().toAbsolutePath().toString());
        }
        return refused;
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

    /** Whether a Host header ({@code name[:port]}) names this machine's loopback; absent is not. */
    static boolean localHost(String host) {
        if (host == null) {
            return false;
        }
        String h = host.strip().toLowerCase(Locale.ROOT);
        int end = h.startsWith("[") ? h.indexOf(']') + 1 : h.lastIndexOf(':') >= 0 ? h.lastIndexOf(':') : h.length();
        if (end <= 0 || (end < h.length() && !h.substring(end).matches(":[0-9]{1,5}"))) {
            return false;
        }
        return LOCAL_HOSTS.contains(h.substring(0, end));
    }

    /** Whether an Origin header is absent (not a browser's cross-origin request) or a loopback origin. */
    static boolean localOrigin(String origin) {
        if (origin == null) {
            return true;
        }
        try {
            URI uri = URI.create(origin.strip());
            String host = uri.getHost();
            return host != null && ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
                    && LOCAL_HOSTS.contains(host.startsWith("[") || !host.contains(":") ? host.toLowerCase(Locale.ROOT) : "[" + host + "]");
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
