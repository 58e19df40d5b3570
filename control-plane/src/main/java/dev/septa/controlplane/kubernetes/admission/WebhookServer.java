package dev.septa.controlplane.kubernetes.admission;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import dev.septa.identity.KeyedCertificate;
import io.grpc.util.AdvancedTlsX509KeyManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mutating admission webhook over HTTPS (Kubernetes mode, decision 0005): {@code POST /inject} with an
 * AdmissionReview v1 body gets the {@link AdmissionReviewHandler}'s answer. The certificate comes from Septa's CA
 * ({@code issuer}); it is renewed at half its lifetime and re-issued as soon as {@code generation} changes (the CA's
 * signer or trust bundle: root rotation), without restarting the listener. TLS 1.2+ only, no client certificate
 * (see decision 0005's addendum). Bad requests get a one-line text answer (400/404/405/413/415), never a stack trace.
 */
public final class WebhookServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WebhookServer.class);
    public static final String PATH = "/inject";
    public static final int DEFAULT_PORT = 15443;
    /** The API server caps an AdmissionReview well below this; anything larger is not one. */
    public static final int MAX_BODY_BYTES = 1024 * 1024;
    private static final long DRAIN_BYTES = 8L * 1024 * 1024;
    /** The names the API server uses for Service septa in septa-system (manifests/webhook.yaml's clientConfig). */
    public static final List<String> DNS_NAMES = List.of("septa.septa-system.svc", "septa.septa-system.svc.cluster.local");

    static {
        // The JDK server's limits are JVM-wide and read once, when its first server is made; set them unless given.
        // The API server waits at most 30 s for a webhook, so no request needs longer to arrive or to be answered.
        setIfAbsent("sun.net.httpserver.maxReqTime", "30");
        setIfAbsent("sun.net.httpserver.maxRspTime", "30");
        setIfAbsent("sun.net.httpserver.maxConnections", "256");
    }

    private static void setIfAbsent(String property, String value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, value);
        }
    }

    private final Supplier<KeyedCertificate> issuer;
    private final Supplier<?> generation;
    private final Supplier<AdmissionReviewHandler> handler;
    private final Clock clock;
    private final AdvancedTlsX509KeyManager keyManager = new AdvancedTlsX509KeyManager();
    private final HttpsServer server;
    private final ExecutorService workers;
    private final ScheduledExecutorService renewal =
            Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("septa-webhook-cert").factory());
    private volatile KeyedCertificate current;
    private volatile Object currentGeneration;

    /**
     * @param issuer     issues a serving certificate for {@link #DNS_NAMES} from the CA's current signer
     * @param generation changes whenever the certificate must be re-issued at once (e.g. signer fingerprint + bundle)
     * @param handler    the handler to use for a request (the trust domain may change with the MeshConfig)
     */
    public WebhookServer(InetSocketAddress bind, Supplier<KeyedCertificate> issuer, Supplier<?> generation,
                         Supplier<AdmissionReviewHandler> handler, Clock clock) throws IOException {
        this.issuer = Objects.requireNonNull(issuer, "issuer");
        this.generation = Objects.requireNonNull(generation, "generation");
        this.handler = Objects.requireNonNull(handler, "handler");
        this.clock = clock;
        reissue();
        SSLContext tls;
        try {
            tls = SSLContext.getInstance("TLS");
            tls.init(new KeyManager[] {keyManager}, null, null);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot set up TLS for the webhook: " + e.getMessage(), e);
        }
        String[] protocols = Arrays.stream(tls.getSupportedSSLParameters().getProtocols())
                .filter(p -> p.equals("TLSv1.3") || p.equals("TLSv1.2")).toArray(String[]::new);
        server = HttpsServer.create(bind, 64);
        server.setHttpsConfigurator(new HttpsConfigurator(tls) {
            @Override
            public void configure(HttpsParameters params) {
                SSLParameters ssl = tls.getDefaultSSLParameters();
                ssl.setProtocols(protocols);
                ssl.setNeedClientAuth(false);
                params.setSSLParameters(ssl);
            }
        });
        server.createContext("/", this::exchange);
        // One virtual thread per exchange (the TLS handshake runs there too): a client that connects and stalls holds
        // a virtual thread until the server's request timer drops it, never the threads the API server's calls need.
        workers = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("septa-webhook-", 0).factory());
        server.setExecutor(workers);
    }

    /** Serves, and checks every {@code checkEvery} whether the certificate is due or the CA's signer changed. */
    public WebhookServer start(Duration checkEvery) {
        server.start();
        long ms = Math.max(1, checkEvery.toMillis());
        renewal.scheduleWithFixedDelay(this::renewIfDue, ms, ms, TimeUnit.MILLISECONDS);
        return this;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** The certificate served now (tests and status). */
    public KeyedCertificate certificate() {
        return current;
    }

    private void renewIfDue() {
        try {
            KeyedCertificate cert = current;
            Instant half = cert.notBefore().plus(Duration.between(cert.notBefore(), cert.notAfter()).dividedBy(2));
            if (!Objects.equals(generation.get(), currentGeneration) || !clock.instant().isBefore(half)) {
                reissue();
                LOG.info("webhook serving certificate re-issued, valid until {}", current.notAfter());
            }
        } catch (RuntimeException e) {
            LOG.warn("renewing the webhook's serving certificate failed (retrying): {}", e.toString());
        }
    }

    private synchronized void reissue() {
        Object gen = generation.get(); // read first: a change during issuance triggers another round
        KeyedCertificate cert = issuer.get();
        try {
            keyManager.updateIdentityCredentials(cert.certificateChain(), cert.privateKey());
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot install the webhook's serving certificate: " + e.getMessage(), e);
        }
        current = cert;
        currentGeneration = gen;
    }

    private void exchange(HttpExchange ex) {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            if (!PATH.equals(path)) {
                reply(ex, 404, "no such path " + path + "; the injection webhook is POST " + PATH);
                return;
            }
            if (!"POST".equals(ex.getRequestMethod())) {
                ex.getResponseHeaders().set("Allow", "POST");
                reply(ex, 405, ex.getRequestMethod() + " not allowed; POST an AdmissionReview v1 (application/json) to " + PATH);
                return;
            }
            String type = ex.getRequestHeaders().getFirst("Content-Type");
            if (type != null && !type.toLowerCase().strip().startsWith("application/json")) {
                reply(ex, 415, "Content-Type " + type + " not accepted; expected application/json (an AdmissionReview v1)");
                return;
            }
            byte[] body = ex.getRequestBody().readNBytes(MAX_BODY_BYTES + 1);
            if (body.length > MAX_BODY_BYTES) {
                // Read on a little (bounded) so the client sees the answer rather than a reset while it still sends.
                for (long left = DRAIN_BYTES, n; left > 0 && (n = ex.getRequestBody().skip(left)) > 0; ) {
                    left -= n;
                }
                reply(ex, 413, "body exceeds the limit of " + MAX_BODY_BYTES + " bytes (an AdmissionReview is far smaller)");
                return;
            }
            String answer;
            try {
                answer = handler.get().handle(new String(body, StandardCharsets.UTF_8));
            } catch (AdmissionReviewHandler.BadReview e) {
                reply(ex, 400, "bad AdmissionReview: " + e.getMessage());
                return;
            } catch (RuntimeException e) {
                LOG.warn("the webhook failed on a request: {}", e.toString());
                reply(ex, 500, "internal error (see the control plane's log)");
                return;
            }
            byte[] out = answer.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, out.length);
            ex.getResponseBody().write(out);
        } catch (IOException | RuntimeException e) {
            LOG.debug("webhook exchange aborted: {}", e.toString()); // the client went away; nothing to answer
        }
    }

    private static void reply(HttpExchange ex, int status, String message) throws IOException {
        byte[] out = (message + "\n").getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        ex.sendResponseHeaders(status, out.length);
        ex.getResponseBody().write(out);
    }

    @Override
    public void close() {
        renewal.shutdownNow();
        server.stop(0);
        workers.shutdownNow();
    }
}
