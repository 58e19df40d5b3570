package dev.septa.controlplane.kubernetes.admission;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.septa.ca.IssuanceListener;
import dev.septa.controlplane.certs.CaWorkloadCertificates;
import dev.septa.identity.KeyedCertificate;
import dev.septa.identity.PemReader;
import dev.septa.sidecar.inject.InjectionSettings;
import dev.septa.sidecar.inject.PodInjector;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The webhook over real HTTPS on loopback, called as the API server calls it: by the Service's name (resolved to
 * 127.0.0.1 by {@link ServiceNameResolver}), trusting only the CA bundle that goes into the caBundle, with the JDK's
 * own hostname verification.
 */
class WebhookServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    CaWorkloadCertificates ca;
    AdmissionReviewHandler handler;
    WebhookServer server;

    @BeforeEach
    void start() throws Exception {
        ca = new CaWorkloadCertificates(dir.resolve("ca"), () -> "cluster.local", IssuanceListener.NONE);
        handler = new AdmissionReviewHandler(new PodInjector(InjectionSettings.defaults("cluster.local")));
        server = new WebhookServer(new InetSocketAddress("127.0.0.1", 0),
                () -> ca.issueServing("spiffe://cluster.local/ns/septa-system/sa/control-plane", WebhookServer.DNS_NAMES, List.of()),
                () -> List.of(CaWorkloadCertificates.fingerprint(ca.signingCertificate()), ca.trustBundlePem()),
                () -> handler, Clock.systemUTC()).start(Duration.ofMillis(50));
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static String resource(String name) throws IOException {
        try (var in = Objects.requireNonNull(WebhookServerTest.class.getResourceAsStream("/admission/" + name), name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static HttpClient trusting(String bundlePem, String... protocols) throws Exception {
        KeyStore roots = KeyStore.getInstance("PKCS12");
        roots.load(null, null);
        int i = 0;
        for (X509Certificate root : PemReader.certificates(bundlePem, "bundlePem")) {
            roots.setCertificateEntry("root-" + i++, root);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(roots);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, tmf.getTrustManagers(), null);
        var builder = HttpClient.newBuilder().sslContext(tls).connectTimeout(TIMEOUT);
        if (protocols.length > 0) {
            SSLParameters params = tls.getDefaultSSLParameters();
            params.setProtocols(protocols);
            builder.sslParameters(params);
        }
        return builder.build();
    }

    private URI uri(String host, String path) {
        return URI.create("https://" + host + ":" + server.port() + path);
    }

    private HttpResponse<String> post(HttpClient client, String path, String contentType, String body) throws Exception {
        return client.send(HttpRequest.newBuilder(uri("septa.septa-system.svc", path)).timeout(TIMEOUT)
                .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"deployment-pod-create.json", "proxyless-pod-create.json", "hostnetwork-pod-create.json", "pod-update.json"})
    void answersAsThePureHandlerDoesOverVerifiedHttps(String review) throws Exception {
        String body = resource(review);
        HttpResponse<String> response = post(trusting(ca.trustBundlePem()), "/inject", "application/json", body);

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(JSON.readTree(response.body())).isEqualTo(JSON.readTree(handler.handle(body)));
        assertThat(response.sslSession().orElseThrow().getProtocol()).isIn("TLSv1.3", "TLSv1.2");
    }

    @Test
    void theCertificateNamesTheServiceAndChainsToTheCa() throws Exception {
        X509Certificate leaf = server.certificate().certificateChain()[0];
        List<String> dnsNames = leaf.getSubjectAlternativeNames().stream().filter(san -> (Integer) san.get(0) == 2)
                .map(san -> String.valueOf(san.get(1))).toList();
        assertThat(dnsNames).containsExactlyInAnyOrder("septa.septa-system.svc", "septa.septa-system.svc.cluster.local");
        leaf.verify(ca.signingCertificate().getPublicKey());
        // The second name is valid too (the JDK checks it against the SAN), and TLS 1.2 alone is accepted.
        HttpResponse<String> response = trusting(ca.trustBundlePem(), "TLSv1.2").send(
                HttpRequest.newBuilder(uri("septa.septa-system.svc.cluster.local", "/inject")).timeout(TIMEOUT)
                        .POST(HttpRequest.BodyPublishers.ofString(resource("pod-update.json"))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.sslSession().orElseThrow().getProtocol()).isEqualTo("TLSv1.2");
    }

    @Test
    void aClientThatDoesNotTrustTheCaOrOnlyOldProtocolsFailsTheHandshake() throws Exception {
        String body = resource("deployment-pod-create.json");
        // The JDK's public roots only.
        HttpClient publicRoots = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
        assertThatThrownBy(() -> post(publicRoots, "/inject", "application/json", body)).isInstanceOf(SSLHandshakeException.class);
        // Another Septa CA.
        var other = new CaWorkloadCertificates(dir.resolve("other-ca"), () -> "cluster.local", IssuanceListener.NONE);
        assertThatThrownBy(() -> post(trusting(other.trustBundlePem()), "/inject", "application/json", body))
                .isInstanceOf(SSLHandshakeException.class);
        // The right CA, but a name the certificate does not carry.
        assertThatThrownBy(() -> trusting(ca.trustBundlePem()).send(HttpRequest.newBuilder(uri("localhost", "/inject")).timeout(TIMEOUT)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(SSLHandshakeException.class);
        // The server keeps serving the clients that do trust it.
        assertThat(post(trusting(ca.trustBundlePem()), "/inject", "application/json", body).statusCode()).isEqualTo(200);
    }

    @Test
    void badRequestsGetTheirStatusAndAOneLineReason() throws Exception {
        HttpClient client = trusting(ca.trustBundlePem());

        var notJson = post(client, "/inject", "application/json", "{nope");
        assertThat(notJson.statusCode()).isEqualTo(400);
        assertThat(notJson.body()).startsWith("bad AdmissionReview: not JSON").doesNotContain("\tat ", "Exception");

        var wrongKind = post(client, "/inject", "application/json", "{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}");
        assertThat(wrongKind.statusCode()).isEqualTo(400);
        assertThat(wrongKind.body()).contains("expected apiVersion admission.k8s.io/v1, kind AdmissionReview; got 'v1', 'Pod'");

        var v1beta1 = post(client, "/inject", "application/json", resource("deployment-pod-create.json").replace("admission.k8s.io/v1", "admission.k8s.io/v1beta1"));
        assertThat(v1beta1.statusCode()).isEqualTo(400);

        var wrongPath = post(client, "/mutate", "application/json", resource("pod-update.json"));
        assertThat(wrongPath.statusCode()).isEqualTo(404);
        assertThat(wrongPath.body()).contains("POST /inject");

        var get = client.send(HttpRequest.newBuilder(uri("septa.septa-system.svc", "/inject")).timeout(TIMEOUT).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(get.statusCode()).isEqualTo(405);
        assertThat(get.headers().firstValue("Allow")).hasValue("POST");

        var form = post(client, "/inject", "application/x-www-form-urlencoded", "a=b");
        assertThat(form.statusCode()).isEqualTo(415);

        String huge = "{\"pad\":\"" + "x".repeat(WebhookServer.MAX_BODY_BYTES + 10) + "\"}";
        var tooLarge = post(client, "/inject", "application/json", huge);
        assertThat(tooLarge.statusCode()).isEqualTo(413);
        assertThat(tooLarge.body()).contains("exceeds the limit of 1048576 bytes");

        // Still serving.
        assertThat(post(client, "/inject", "application/json", resource("pod-update.json")).statusCode()).isEqualTo(200);
    }

    @Test
    void aPodCreationWithoutItsPodIsABadRequestNotAnInternalError() throws Exception {
        HttpClient client = trusting(ca.trustBundlePem());
        for (String variant : new String[] {"null", "absent", "text"}) {
            var review = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(resource("deployment-pod-create.json"));
            var request = (com.fasterxml.jackson.databind.node.ObjectNode) review.get("request");
            switch (variant) {
                case "null" -> request.putNull("object");
                case "absent" -> request.remove("object");
                default -> request.put("object", "a pod");
            }
            var answer = post(client, "/inject", "application/json", review.toString());
            assertThat(answer.statusCode()).as(variant).isEqualTo(400);
            assertThat(answer.body().strip()).as(variant).startsWith("bad AdmissionReview: request.object must be the pod")
                    .doesNotContain("\n", "Exception", "\tat ");
        }
        assertThat(post(client, "/inject", "application/json", resource("deployment-pod-create.json")).statusCode()).isEqualTo(200);
    }

    @Test
    void clientsThatConnectAndStallDoNotStarveTheApiServersCalls() throws Exception {
        List<java.net.Socket> stalled = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 32; i++) {
                var socket = new java.net.Socket("127.0.0.1", server.port());
                socket.getOutputStream().write(new byte[] {0x16, 0x03, 0x01}); // the start of a ClientHello, then nothing
                stalled.add(socket);
            }
            var response = post(trusting(ca.trustBundlePem()), "/inject", "application/json", resource("deployment-pod-create.json"));
            assertThat(response.statusCode()).isEqualTo(200);
        } finally {
            for (var socket : stalled) {
                socket.close();
            }
        }
    }

    @Test
    void rootRotationReissuesTheCertificateFromTheNewSigner() throws Exception {
        KeyedCertificate before = server.certificate();
        assertThat(before.signer()).isEqualTo(CaWorkloadCertificates.fingerprint(ca.signingCertificate()));

        ca.rootRotation().begin();      // stage 1: both roots trusted, the old one still signs
        ca.rootRotation().switchSigner(); // stage 2: the new root signs
        String newSigner = CaWorkloadCertificates.fingerprint(ca.signingCertificate());
        assertThat(newSigner).isNotEqualTo(before.signer());
        await().atMost(TIMEOUT).until(() -> newSigner.equals(server.certificate().signer()));

        ca.rootRotation().retireOldRoots(); // stage 3: only the new root is trusted
        String onlyNewRoot = ca.trustBundlePem();
        assertThat(PemReader.certificates(onlyNewRoot, "onlyNewRoot")).hasSize(1);
        // A client trusting only the new root verifies what the webhook serves now.
        HttpResponse<String> response = post(trusting(onlyNewRoot), "/inject", "application/json", resource("pod-update.json"));
        assertThat(response.statusCode()).isEqualTo(200);
        X509Certificate served = (X509Certificate) response.sslSession().orElseThrow().getPeerCertificates()[0];
        served.verify(ca.signingCertificate().getPublicKey());
    }
}
