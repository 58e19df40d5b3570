package dev.septa.sidecar.grpc;

import io.grpc.ChannelCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import io.grpc.xds.XdsCredentialsProvider;
import io.grpc.util.CertificateUtils;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The xDS bootstrap's {@code channel_creds} of type {@code tls} as gRFC A65 defines it: mutual TLS to the control plane
 * with {@code certificate_file}, {@code private_key_file} and {@code ca_certificate_file}, re-read every
 * {@code refresh_interval} (default 600s, as in A65).
 *
 * <p>Why it exists: grpc-java 1.85.1's own {@code tls} provider ignores its config and returns
 * {@code TlsChannelCredentials.create()} (the JDK's default trust store, no client certificate), so a proxyless
 * workload could neither verify Septa's CA nor present its SVID. Registered through {@code META-INF/services}
 * with a priority above the built-in one (5), it takes over the name {@code tls}; the bootstrap stays the standard
 * A65 shape that grpc-go and grpc-core read natively.
 */
public final class FileTlsXdsCredentialsProvider extends XdsCredentialsProvider {
    /**
     * Set to {@code true} (before the first xDS channel or server) to keep this provider out of grpc's registry: a
     * workload on the relayed bootstrap ({@code insecure} to {@code septa agent}) then runs on grpc-xds alone, as one
     * without Septa's jar would. {@code septa demo}'s workloads do so unless started with {@code --direct-tls}.
     */
    public static final String DISABLED_PROPERTY = "dev.septa.xds.tls-provider.disabled";

    private static final ScheduledExecutorService REFRESH = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "septa-xds-tls-refresh");
        thread.setDaemon(true);
        return thread;
    });

    @Override
    protected ChannelCredentials newChannelCredentials(Map<String, ?> config) {
        if (config == null || !(config.get("ca_certificate_file") instanceof String caFile)) {
            // A65: without a CA file the system trust store is used; keep grpc's own behaviour there.
            return TlsChannelCredentials.create();
        }
        long refreshSeconds = refreshSeconds(config.get("refresh_interval"));
        try {
            var trust = AdvancedTlsX509TrustManager.newBuilder()
                    .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_AND_HOST_NAME_VERIFICATION)
                    .build();
            var builder = TlsChannelCredentials.newBuilder().trustManager(trust);
            AdvancedTlsX509KeyManager keys = null;
            Path cert = null;
            Path key = null;
            if (config.get("certificate_file") instanceof String certFile
                    && config.get("private_key_file") instanceof String keyFile) {
                keys = new AdvancedTlsX509KeyManager();
                cert = Path.of(certFile);
                key = Path.of(keyFile);
                builder.keyManager(keys);
            }
            var reloader = new Reloader(Path.of(caFile), cert, key, trust, keys);
            reloader.reload(true);
            REFRESH.scheduleWithFixedDelay(reloader::reloadQuietly, refreshSeconds, refreshSeconds, TimeUnit.SECONDS);
            return builder.build();
        } catch (Exception e) {
            // grpc treats null as "this creds type cannot be used"; say why, without file contents.
            System.getLogger(FileTlsXdsCredentialsProvider.class.getName()).log(System.Logger.Level.ERROR,
                    "xDS channel_creds tls: cannot load " + caFile + " / certificate files: " + e.getMessage());
            return null;
        }
    }

    /**
     * The same mutual-TLS credentials as the bootstrap's {@code channel_creds}, for other channels to the control
     * plane (the access-log reporter), so they present the workload's SVID and follow its rotation.
     */
    public static ChannelCredentials forFiles(dev.septa.sidecar.bootstrap.CertificateFileLayout files, Duration refresh) {
        ChannelCredentials credentials = new FileTlsXdsCredentialsProvider().newChannelCredentials(Map.of(
                "certificate_file", files.cert().toString(),
                "private_key_file", files.key().toString(),
                "ca_certificate_file", files.ca().toString(),
                "refresh_interval", Math.max(1, refresh.toSeconds()) + "s"));
        if (credentials == null) {
            throw new IllegalStateException("cannot load the certificate files in " + files.dir());
        }
        return credentials;
    }

    /**
     * Re-reads the files by content, not by modification time: grpc-util 1.85's own file refresh
     * ({@code updateIdentityCredentials(File, File, period, ...)}) was seen keeping the first certificate after the
     * agent swapped its {@code ..data} symlink, so after a rotation a reconnecting xDS channel presented an expired
     * certificate and trusted only the first root. A pair is taken only when the certificate did not change while the
     * key was read (the agent swaps both at once).
     */
    static final class Reloader {
        private final Path ca;
        private final Path cert;
        private final Path key;
        private final AdvancedTlsX509TrustManager trust;
        private final AdvancedTlsX509KeyManager keys;
        private byte[] lastCa;
        private byte[] lastCert;
        private byte[] lastKey;

        Reloader(Path ca, Path cert, Path key, AdvancedTlsX509TrustManager trust, AdvancedTlsX509KeyManager keys) {
            this.ca = ca;
            this.cert = cert;
            this.key = key;
            this.trust = trust;
            this.keys = keys;
        }

        void reloadQuietly() {
            try {
                reload(false);
            } catch (Exception | Error e) {
                System.getLogger(FileTlsXdsCredentialsProvider.class.getName()).log(System.Logger.Level.WARNING,
                        "xDS channel_creds tls: keeping the previous credentials, cannot re-read " + ca + ": " + e.getMessage());
            }
        }

        synchronized void reload(boolean first) throws Exception {
            byte[] caBytes = Files.readAllBytes(ca);
            if (first || !Arrays.equals(caBytes, lastCa)) {
                trust.updateTrustCredentials(CertificateUtils.getX509Certificates(new ByteArrayInputStream(caBytes)));
                lastCa = caBytes;
            }
            if (keys == null) {
                return;
            }
            byte[] certBytes = Files.readAllBytes(cert);
            byte[] keyBytes = Files.readAllBytes(key);
            if (!Arrays.equals(certBytes, Files.readAllBytes(cert))) {
                return; // swapped while reading: take the pair next time
            }
            if (first || !Arrays.equals(certBytes, lastCert) || !Arrays.equals(keyBytes, lastKey)) {
                keys.updateIdentityCredentials(CertificateUtils.getX509Certificates(new ByteArrayInputStream(certBytes)),
                        CertificateUtils.getPrivateKey(new ByteArrayInputStream(keyBytes)));
                lastCert = certBytes;
                lastKey = keyBytes;
            }
        }
    }

    static long refreshSeconds(Object value) {
        if (value instanceof String text && !text.isBlank()) {
            String trimmed = text.trim();
            if (trimmed.endsWith("s")) {
                return Math.max(1, (long) Math.ceil(Double.parseDouble(trimmed.substring(0, trimmed.length() - 1))));
            }
            return Math.max(1, Duration.parse(trimmed).toSeconds());
        }
        return 600;
    }

    @Override
    protected String getName() {
        return "tls";
    }

    @Override
    public boolean isAvailable() {
        // grpc's registry asks once, when it loads its providers; an unavailable provider is not registered.
        return !Boolean.getBoolean(DISABLED_PROPERTY);
    }

    @Override
    public int priority() {
        return 10;
    }
}
