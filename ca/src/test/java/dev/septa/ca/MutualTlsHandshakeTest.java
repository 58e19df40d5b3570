package dev.septa.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.septa.identity.SpiffeId;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;

/** Two JDK TLS endpoints on loopback, each with a CA-issued SVID, requiring and reading each other's SPIFFE ID. */
class MutualTlsHandshakeTest {

    static final SpiffeId CHECKOUT = SpiffeId.of("cluster.local", "shop", "checkout");
    static final SpiffeId PAYMENTS = SpiffeId.of("cluster.local", "shop", "payments");

    final CertificateAuthority ca = CertificateAuthority.open(new InMemoryCaKeyStore(), CaConfig.forTrustDomain("cluster.local"));
    final CertificateAuthority foreign = CertificateAuthority.open(new InMemoryCaKeyStore(), CaConfig.forTrustDomain("cluster.local"));

    @Test
    void bothSidesPresentSvidsAndReadThePeersSpiffeId() throws Exception {
        SSLContext server = context(ca.issueWorkloadCredential(PAYMENTS), ca.trustBundle());
        SSLContext client = context(ca.issueWorkloadCredential(CHECKOUT), ca.trustBundle());

        try (SSLServerSocket listener = listen(server)) {
            CompletableFuture<String> seenByServer = CompletableFuture.supplyAsync(() -> serveOnce(listener));
            try (SSLSocket socket = connect(client, listener)) {
                socket.startHandshake();
                X509Certificate peer = (X509Certificate) socket.getSession().getPeerCertificates()[0];
                assertThat(SpiffeId.fromCertificate(peer)).contains(PAYMENTS);
                var in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
                assertThat(in.readLine()).isEqualTo("hello " + CHECKOUT.uri());
            }
            assertThat(seenByServer.get(60, TimeUnit.SECONDS)).isEqualTo(CHECKOUT.uri());
        }
    }

    @Test
    void anIntermediateIssuedChainIsAcceptedByPeersTrustingOnlyTheRoot(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        OperatorPki ops = OperatorPki.create(dir, "v3_int", 10);
        CaConfig config = CaConfig.forTrustDomain("cluster.local");
        CertificateAuthority intermediate = CertificateAuthority.fromMaterial(IntermediateLoader.load(ops.intermediateCert,
                ops.intermediateKey, null, ops.rootCert, config, java.time.Clock.systemUTC()), config,
                java.time.Clock.systemUTC(), IssuanceListener.NONE);
        SSLContext server = context(intermediate.issueWorkloadCredential(PAYMENTS), intermediate.trustBundle());
        SSLContext client = context(intermediate.issueWorkloadCredential(CHECKOUT), intermediate.trustBundle());

        try (SSLServerSocket listener = listen(server)) {
            CompletableFuture<String> seenByServer = CompletableFuture.supplyAsync(() -> serveOnce(listener));
            try (SSLSocket socket = connect(client, listener)) {
                socket.startHandshake();
                assertThat(socket.getSession().getPeerCertificates()).hasSize(2);
                assertThat(SpiffeId.fromCertificate((X509Certificate) socket.getSession().getPeerCertificates()[0]))
                        .contains(PAYMENTS);
                var in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
                assertThat(in.readLine()).isEqualTo("hello " + CHECKOUT.uri());
            }
            assertThat(seenByServer.get(60, TimeUnit.SECONDS)).isEqualTo(CHECKOUT.uri());
        }
    }

    @Test
    void aClientWithAForeignCasCertificateIsRejected() throws Exception {
        SSLContext server = context(ca.issueWorkloadCredential(PAYMENTS), ca.trustBundle());
        // Same trust domain and SPIFFE ID, but a different CA: only the signature tells them apart.
        SSLContext client = context(foreign.issueWorkloadCredential(CHECKOUT), ca.trustBundle());

        try (SSLServerSocket listener = listen(server)) {
            CompletableFuture<String> seenByServer = CompletableFuture.supplyAsync(() -> serveOnce(listener));
            try (SSLSocket socket = connect(client, listener)) {
                assertThatThrownBy(() -> {
                    socket.startHandshake();
                    // TLS 1.3: the client learns of the rejection when it next reads.
                    if (socket.getInputStream().read() < 0) {
                        throw new SSLException("closed by server");
                    }
                }).isInstanceOf(java.io.IOException.class);
            }
            assertThatThrownBy(() -> seenByServer.get(60, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause().cause().isInstanceOf(javax.net.ssl.SSLHandshakeException.class);
        }
    }

    @Test
    void aServerWithAForeignCasCertificateIsRejectedByTheClient() throws Exception {
        SSLContext server = context(foreign.issueWorkloadCredential(PAYMENTS), ca.trustBundle());
        SSLContext client = context(ca.issueWorkloadCredential(CHECKOUT), ca.trustBundle());

        try (SSLServerSocket listener = listen(server)) {
            CompletableFuture<String> seenByServer = CompletableFuture.supplyAsync(() -> serveOnce(listener));
            try (SSLSocket socket = connect(client, listener)) {
                assertThatThrownBy(socket::startHandshake).isInstanceOf(javax.net.ssl.SSLHandshakeException.class)
                        .hasMessageContaining("PKIX path");
            }
            assertThatThrownBy(() -> seenByServer.get(60, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
        }
    }

    /** Accepts one connection, requires a client certificate, answers with the client's SPIFFE ID. */
    private static String serveOnce(SSLServerSocket listener) {
        try (SSLSocket socket = (SSLSocket) listener.accept()) {
            socket.setSoTimeout(60_000);
            socket.startHandshake();
            X509Certificate peer = (X509Certificate) socket.getSession().getPeerCertificates()[0];
            String id = SpiffeId.fromCertificate(peer).orElseThrow().uri();
            var out = new PrintWriter(socket.getOutputStream(), true, StandardCharsets.UTF_8);
            out.println("hello " + id);
            return id;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static SSLServerSocket listen(SSLContext context) throws Exception {
        SSLServerSocket listener = (SSLServerSocket) context.getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress());
        listener.setNeedClientAuth(true);
        listener.setSoTimeout(60_000);
        return listener;
    }

    private static SSLSocket connect(SSLContext context, SSLServerSocket listener) throws Exception {
        SSLSocket socket = (SSLSocket) context.getSocketFactory()
                .createSocket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
        socket.setSoTimeout(60_000);
        return socket;
    }

    /** Key manager with the SVID and its chain; trust manager with the bundle's roots. */
    static SSLContext context(WorkloadCredential credential, TrustBundle bundle) throws Exception {
        char[] password = "unused".toCharArray();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("svid", credential.privateKey(), password,
                credential.certificate().chain().toArray(X509Certificate[]::new));
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance("PKIX");
        keyManagers.init(keys, password);
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        for (int i = 0; i < bundle.roots().size(); i++) {
            trust.setCertificateEntry("root-" + i, bundle.roots().get(i));
        }
        TrustManagerFactory trustManagers = TrustManagerFactory.getInstance("PKIX");
        trustManagers.init(trust);
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), null);
        return context;
    }
}
