package dev.septa.sidecar.agent;

import com.google.protobuf.Any;
import dev.septa.sidecar.bootstrap.CertificateFileLayout;
import dev.septa.sidecar.bootstrap.ControlPlaneEndpoint;
import dev.septa.sidecar.bootstrap.NodeMetadata;
import dev.septa.sidecar.bootstrap.ProxyNode;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.secret.v3.SecretDiscoveryServiceGrpc;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * {@code septa agent}: holds an SDS stream to the control plane for the secrets {@code default} (the SVID) and
 * {@code ROOTCA} (the trust bundle) and keeps them on disk for grpc's file_watcher.
 *
 * <p>Authentication (decision 0002): while no valid certificate is on disk, the stream carries
 * {@code authorization: Bearer <node token>}; once the agent holds an unexpired SVID it presents that instead, so a
 * long-running workload outlives its short-lived token. An attempt that gets no answer moves on to the other
 * credential, so the agent always comes back with what it holds. The control plane is verified with the roots of the
 * last {@code ca.pem} written and of the bootstrap's bundle, whichever verifies. Every response is checked (PEM parses, the key is
 * PKCS#8 and belongs to the certificate) and ACKed, or NACKed with the reason; a rejected response never reaches the
 * files. Lost streams reconnect with jittered exponential backoff (250 ms doubling to 15 s).
 */
public final class SdsAgent implements AutoCloseable {
    public static final String SECRET_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
    public static final String SVID = "default";
    public static final String TRUST_BUNDLE = "ROOTCA";
    private static final Duration INITIAL_BACKOFF = Duration.ofMillis(250);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(15);
    /** An SVID closer than this to its end is tried after the token (it may lapse during the handshake). */
    private static final Duration EXPIRY_MARGIN = Duration.ofSeconds(5);
    private static final String CERTIFICATE = "certificate";
    private static final String TOKEN = "token";

    /** What the agent reports; the demo and the CLI print it, tests wait on it. Never given a private key. */
    public interface Listener {
        default void connected(String authentication) {
        }

        default void written(CertificateBundle bundle) {
        }

        default void failed(String message) {
        }
    }

    private final ProxyNode node;
    private final ControlPlaneEndpoint endpoint;
    private final Supplier<Optional<String>> token;
    private final CertificateFileWriter writer;
    private final Listener listener;
    private final ScheduledExecutorService executor;
    private final CountDownLatch firstWrite = new CountDownLatch(1);
    private volatile boolean closed;
    private volatile ManagedChannel channel;
    private Duration backoff = INITIAL_BACKOFF;
    /** Attempts in a row that got no answer; picks the next credential (touched on the agent's thread only). */
    private int unanswered;

    public SdsAgent(ProxyNode node, ControlPlaneEndpoint endpoint, Supplier<Optional<String>> token,
                    CertificateFileLayout files, Listener listener) {
        this.node = node;
        this.endpoint = endpoint;
        this.token = token;
        this.writer = new CertificateFileWriter(files);
        this.listener = listener;
        this.executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "septa-agent-" + node.id());
            thread.setDaemon(true);
            return thread;
        });
    }

    public SdsAgent start() {
        executor.execute(this::connect);
        return this;
    }

    /** Waits until the files have been written once (by this run). */
    public boolean awaitFirstWrite(Duration timeout) throws InterruptedException {
        return firstWrite.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void connect() {
        if (closed) {
            return;
        }
        Optional<CertificateBundle> current = currentFiles();
        Optional<String> bearer = token.get();
        List<String> choices = credentialChoices(current, bearer);
        if (choices.isEmpty()) {
            fail("no valid certificate on disk and no node token: run `septa bootstrap` for a fresh token", null);
            return;
        }
        String authentication = choices.get(unanswered % choices.size());
        ChannelCredentials credentials;
        Metadata headers = new Metadata();
        try {
            String anchors = ControlPlaneTrust.anchors(writer.layout().ca(), endpoint.trustBundlePem());
            var builder = TlsChannelCredentials.newBuilder().trustManager(stream(anchors));
            if (authentication.equals(CERTIFICATE)) {
                builder.keyManager(stream(current.get().certificateChainPem()), stream(current.get().privateKeyPem()));
            } else {
                headers.put(Metadata.Key.of(NodeMetadata.AUTHORIZATION, Metadata.ASCII_STRING_MARSHALLER), "Bearer " + bearer.get());
            }
            credentials = builder.build();
        } catch (IOException | RuntimeException e) {
            fail("cannot set up TLS to " + endpoint.authority() + ": " + e.getMessage(), null);
            return;
        }
        ManagedChannel next = Grpc.newChannelBuilderForAddress(endpoint.host(), endpoint.port(), credentials).build();
        channel = next;
        var stub = SecretDiscoveryServiceGrpc.newStub(next).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
        var stream = new SecretStream(next, authentication);
        stream.requests = stub.streamSecrets(stream);
        stream.requests.onNext(request("", ""));
    }

    /**
     * What the agent can present, in the order it tries them: its SVID while it is valid, then its token. An attempt
     * that got no answer (a handshake the control plane refused, UNAUTHENTICATED) moves on to the next choice, so an
     * SVID from a root the control plane no longer trusts gives way to the token. An SVID about to expire comes last.
     */
    private static List<String> credentialChoices(Optional<CertificateBundle> current, Optional<String> bearer) {
        List<String> choices = new java.util.ArrayList<>();
        boolean fresh = current.isPresent() && current.get().notAfter().isAfter(Instant.now().plus(EXPIRY_MARGIN));
        if (fresh) {
            choices.add(CERTIFICATE);
        }
        bearer.ifPresent(t -> choices.add(TOKEN));
        if (current.isPresent() && !fresh) {
            choices.add(CERTIFICATE);
        }
        return choices;
    }

    /** The files on disk when they form a valid, unexpired set; otherwise empty (and only the token is left). */
    private Optional<CertificateBundle> currentFiles() {
        CertificateFileLayout files = writer.layout();
        if (!writer.present()) {
            return Optional.empty();
        }
        try {
            var bundle = CertificateBundle.verified(Files.readString(files.cert()), Files.readString(files.key()),
                    Files.readString(files.ca()));
            return bundle.notAfter().isAfter(Instant.now()) ? Optional.of(bundle) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private DiscoveryRequest request(String version, String nonce) {
        var metadata = com.google.protobuf.Struct.newBuilder()
                .putFields(NodeMetadata.DIALECT, com.google.protobuf.Value.newBuilder().setStringValue("grpc").build())
                .putFields(NodeMetadata.SERVICE_ACCOUNT, com.google.protobuf.Value.newBuilder().setStringValue(node.serviceAccount()).build());
        return DiscoveryRequest.newBuilder()
                .setNode(Node.newBuilder().setId(node.id()).setCluster(node.namespace()).setUserAgentName("septa-agent-grpc")
                        .setMetadata(metadata))
                .setTypeUrl(SECRET_TYPE).addAllResourceNames(List.of(SVID, TRUST_BUNDLE))
                .setVersionInfo(version).setResponseNonce(nonce).build();
    }

    private void fail(String message, ManagedChannel failed) {
        listener.failed(message);
        if (failed != null) {
            failed.shutdownNow();
        }
        if (closed) {
            return;
        }
        long jittered = (long) (backoff.toMillis() * (0.5 + ThreadLocalRandom.current().nextDouble() * 0.5));
        backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        try {
            executor.schedule(this::connect, jittered, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    /** Runs on the agent's thread unless the agent is closed (late callbacks of a dying stream are dropped). */
    private void run(Runnable task) {
        if (closed) {
            return;
        }
        try {
            executor.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closed meanwhile
        }
    }

    /** The innermost cause (a refused handshake's "PKIX path building failed"), for the log. */
    private static String rootCause(Throwable cause) {
        if (cause == null) {
            return "";
        }
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        return " (" + cause.getClass().getSimpleName() + ": " + cause.getMessage() + ")";
    }

    private static ByteArrayInputStream stream(String pem) {
        return new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII));
    }

    @Override
    public void close() {
        closed = true;
        executor.shutdownNow();
        ManagedChannel open = channel;
        if (open != null) {
            open.shutdownNow();
        }
    }

    /** One SDS stream: state of the world per response, ACK or NACK each. */
    private final class SecretStream implements StreamObserver<DiscoveryResponse> {
        private final ManagedChannel channel;
        private final String authentication;
        private final Map<String, Secret> secrets = new HashMap<>();
        private volatile StreamObserver<DiscoveryRequest> requests;
        private String acceptedVersion = "";
        private boolean reportedConnected;

        SecretStream(ManagedChannel channel, String authentication) {
            this.channel = channel;
            this.authentication = authentication;
        }

        @Override
        public void onNext(DiscoveryResponse response) {
            run(() -> handle(response));
        }

        private void handle(DiscoveryResponse response) {
            if (!reportedConnected) {
                reportedConnected = true;
                backoff = INITIAL_BACKOFF;
                unanswered = 0;
                listener.connected(authentication);
            }
            try {
                Map<String, Secret> next = new HashMap<>(secrets);
                for (Any resource : response.getResourcesList()) {
                    Secret secret = resource.unpack(Secret.class);
                    next.put(secret.getName(), secret);
                }
                if (next.containsKey(SVID) && next.containsKey(TRUST_BUNDLE)) {
                    CertificateBundle bundle = bundle(next.get(SVID), next.get(TRUST_BUNDLE));
                    if (!next.equals(secrets) || !writer.present()) {
                        writer.write(bundle);
                        listener.written(bundle);
                        firstWrite.countDown();
                    }
                }
                secrets.clear();
                secrets.putAll(next);
                acceptedVersion = response.getVersionInfo();
                requests.onNext(request(acceptedVersion, response.getNonce()));
            } catch (IllegalArgumentException | IOException e) {
                // Some I/O errors carry no message (ClosedByInterruptException while the agent closes): name the class.
                String reason = "rejected secrets version " + response.getVersionInfo() + ": "
                        + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
                listener.failed(reason);
                requests.onNext(request(acceptedVersion, response.getNonce()).toBuilder()
                        .setErrorDetail(com.google.rpc.Status.newBuilder().setCode(Status.Code.INVALID_ARGUMENT.value()).setMessage(reason))
                        .build());
            }
        }

        @Override
        public void onError(Throwable error) {
            Status status = Status.fromThrowable(error);
            run(() -> ended("ended: " + status.getCode() + (status.getDescription() == null ? "" : " " + status.getDescription())
                    + rootCause(status.getCause())));
        }

        @Override
        public void onCompleted() {
            run(() -> ended("closed by the server"));
        }

        private void ended(String how) {
            if (!reportedConnected) {
                unanswered++; // never answered: the next attempt presents the next credential
            }
            fail("SDS stream to " + endpoint.authority() + " " + how + " (presented: " + authentication + ")", channel);
        }
    }

    static CertificateBundle bundle(Secret svid, Secret trust) {
        if (!svid.hasTlsCertificate()) {
            throw new IllegalArgumentException("secret 'default' carries no tls_certificate");
        }
        if (!trust.hasValidationContext() || !trust.getValidationContext().hasTrustedCa()) {
            throw new IllegalArgumentException("secret 'ROOTCA' carries no validation_context.trusted_ca");
        }
        return CertificateBundle.verified(text(svid.getTlsCertificate().getCertificateChain(), "certificate_chain"),
                text(svid.getTlsCertificate().getPrivateKey(), "private_key"),
                text(trust.getValidationContext().getTrustedCa(), "trusted_ca"));
    }

    private static String text(DataSource source, String field) {
        return switch (source.getSpecifierCase()) {
            case INLINE_BYTES -> source.getInlineBytes().toString(StandardCharsets.US_ASCII);
            case INLINE_STRING -> source.getInlineString();
            default -> throw new IllegalArgumentException(field + " must be inline (got " + source.getSpecifierCase() + ")");
        };
    }
}
