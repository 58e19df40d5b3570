package dev.septa.sidecar.relay;

import dev.septa.sidecar.agent.CertificateBundle;
import dev.septa.sidecar.agent.ControlPlaneTrust;
import dev.septa.sidecar.bootstrap.CertificateFileLayout;
import dev.septa.sidecar.bootstrap.ControlPlaneEndpoint;
import dev.septa.sidecar.bootstrap.NodeMetadata;
import io.grpc.ChannelCredentials;
import io.grpc.Metadata;
import io.grpc.TlsChannelCredentials;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * How the relay authenticates to the control plane, decided afresh for every upstream stream, the way
 * {@code septa agent}'s SDS stream does (decision 0002): the SVID on disk while it is valid and unexpired, otherwise
 * the node token as {@code authorization: Bearer}; either way the control plane is verified with the last
 * {@code ca.pem} and the bootstrap's bundle, whichever verifies ({@link ControlPlaneTrust}). Files are read by content on each call, so a rotated SVID is used on the next reconnect.
 */
public final class UpstreamCredentials {
    /**
     * One connection's credentials; {@code authentication} is {@code certificate} or {@code token}, for logs.
     * {@code fingerprint} is a digest of what they were built from (certificate chain, token, trust anchors): equal
     * fingerprints mean an existing channel may be kept, a new one means the channel must be replaced.
     */
    public record Chosen(ChannelCredentials credentials, Metadata headers, String authentication, String fingerprint) {}

    private final ControlPlaneEndpoint endpoint;
    private final CertificateFileLayout files;
    private final Supplier<Optional<String>> token;

    public UpstreamCredentials(ControlPlaneEndpoint endpoint, CertificateFileLayout files, Supplier<Optional<String>> token) {
        this.endpoint = endpoint;
        this.files = files;
        this.token = token;
    }

    public ControlPlaneEndpoint endpoint() {
        return endpoint;
    }

    /** The credentials for the next connection; {@link IllegalStateException} when there is neither SVID nor token. */
    public Chosen choose() throws IOException {
        Metadata headers = new Metadata();
        Optional<CertificateBundle> svid = currentSvid();
        String anchors = trustAnchors();
        if (svid.isPresent()) {
            var credentials = TlsChannelCredentials.newBuilder().trustManager(pem(anchors))
                    .keyManager(pem(svid.get().certificateChainPem()), pem(svid.get().privateKeyPem())).build();
            return new Chosen(credentials, headers, "certificate", digest("certificate", svid.get().certificateChainPem(), anchors));
        }
        Optional<String> bearer = token.get();
        if (bearer.isEmpty()) {
            throw new IllegalStateException("no valid certificate in " + files.dir() + " and no node token: run `septa bootstrap` for a fresh token");
        }
        headers.put(Metadata.Key.of(NodeMetadata.AUTHORIZATION, Metadata.ASCII_STRING_MARSHALLER), "Bearer " + bearer.get());
        var credentials = TlsChannelCredentials.newBuilder().trustManager(pem(anchors)).build();
        return new Chosen(credentials, headers, "token", digest("token", bearer.get(), anchors));
    }

    /** SHA-256 over the parts, so that no secret is kept in the fingerprint itself. */
    private static String digest(String... parts) {
        try {
            var sha = java.security.MessageDigest.getInstance("SHA-256");
            for (String part : parts) {
                sha.update(part.getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0);
            }
            return java.util.HexFormat.of().formatHex(sha.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** The agent's rule (ControlPlaneTrust): the last ca.pem and the bootstrap's bundle, whichever verifies. */
    private String trustAnchors() {
        return ControlPlaneTrust.anchors(files.ca(), endpoint.trustBundlePem());
    }

    private Optional<CertificateBundle> currentSvid() {
        try {
            if (!Files.exists(files.cert()) || !Files.exists(files.key()) || !Files.exists(files.ca())) {
                return Optional.empty();
            }
            var bundle = CertificateBundle.verified(Files.readString(files.cert()), Files.readString(files.key()),
                    Files.readString(files.ca()));
            return bundle.notAfter().isAfter(Instant.now().plusSeconds(5)) ? Optional.of(bundle) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static ByteArrayInputStream pem(String text) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII));
    }
}
