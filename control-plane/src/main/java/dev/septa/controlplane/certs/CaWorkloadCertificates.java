package dev.septa.controlplane.certs;

import dev.septa.ca.CaConfig;
import dev.septa.ca.CertificateAuthority;
import dev.septa.ca.FileRotationStores;
import dev.septa.ca.RotationStores;
import dev.septa.ca.IssuanceListener;
import dev.septa.ca.IssuedCertificate;
import dev.septa.identity.KeyedCertificate;
import dev.septa.identity.Pem;
import dev.septa.identity.SpiffeId;
import dev.septa.ca.WorkloadCredential;
import dev.septa.policy.model.MeshConfig;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Septa's CA (module {@code ca}) kept in its {@link RotationStores}: {@code stateDir/ca} in local mode, Kubernetes
 * Secrets in Kubernetes mode. Created on first start, reused on every restart so running workloads keep trusting
 * the control plane. Opened on first use, when the mesh's trust domain is known.
 */
public final class CaWorkloadCertificates implements WorkloadCertificates {
    static final Duration SERVING_TTL = Duration.ofHours(24);

    private final RotationStores stores;
    private final Supplier<String> trustDomain;
    private final IssuanceListener listener;
    private final Duration minTtl;
    private CertificateAuthority ca;
    private dev.septa.ca.RootRotation rotation;

    public CaWorkloadCertificates(Path directory, Supplier<String> trustDomain, IssuanceListener listener) {
        this(directory, trustDomain, listener, CaConfig.DEFAULT_MIN_TTL);
    }

    /** {@code minTtl}: the shortest workload lifetime accepted (seconds for tests and demos; default 5 minutes). */
    public CaWorkloadCertificates(Path directory, Supplier<String> trustDomain, IssuanceListener listener, Duration minTtl) {
        this(new FileRotationStores(directory), trustDomain, listener, minTtl);
    }

    public CaWorkloadCertificates(RotationStores stores, Supplier<String> trustDomain, IssuanceListener listener, Duration minTtl) {
        this.stores = stores;
        this.trustDomain = trustDomain;
        this.listener = listener;
        this.minTtl = minTtl;
    }

    private synchronized CertificateAuthority ca() {
        if (ca == null) {
            ca = CertificateAuthority.open(stores.current(), CaConfig.forTrustDomain(trustDomain.get())
                            .withTtlRange(minTtl, MeshConfig.MAX_CERTIFICATE_TTL), // the bound MeshConfig validates
                    Clock.systemUTC(), listener);
        }
        return ca;
    }

    @Override
    public Object generation() {
        return List.of(fingerprint(signingCertificate()), trustBundlePem());
    }

    /** The staged root rotation of this CA, resumed from the store on first use. */
    public synchronized dev.septa.ca.RootRotation rootRotation() {
        if (rotation == null) {
            rotation = dev.septa.ca.RootRotation.open(ca(), stores, Clock.systemUTC());
        }
        return rotation;
    }

    /** The certificate that signs workload certificates now. */
    public java.security.cert.X509Certificate signingCertificate() {
        return ca().signingCertificate();
    }

    /** SHA-256 of the certificate's DER, hex: names one CA certificate exactly (renewed ones often share a name). */
    public static String fingerprint(java.security.cert.X509Certificate certificate) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot fingerprint " + certificate.getSubjectX500Principal(), e);
        }
    }

    @Override
    public KeyedCertificate issueWorkload(String spiffeId, Duration ttl) {
        WorkloadCredential credential = ca().issueWorkloadCredential(SpiffeId.parse(spiffeId), ttl);
        IssuedCertificate cert = credential.certificate();
        return new KeyedCertificate(spiffeId, cert.certificateChainPem(), credential.privateKeyPkcs8Pem(),
                cert.notBefore(), cert.notAfter(), fingerprint(cert.signer()));
    }

    @Override
    public KeyedCertificate issueServing(String spiffeId, List<String> dnsNames, List<String> ipAddresses) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair keys = generator.generateKeyPair();
            List<InetAddress> ips = new ArrayList<>();
            for (String ip : ipAddresses) {
                ips.add(InetAddress.getByName(ip)); // literal addresses only: no lookup happens
            }
            CertificateAuthority authority = ca();
            Duration ttl = SERVING_TTL.compareTo(authority.config().maxTtl()) > 0 ? authority.config().maxTtl() : SERVING_TTL;
            IssuedCertificate cert = authority.issueServingCertificate(keys.getPublic(), SpiffeId.parse(spiffeId), dnsNames, ips, ttl);
            return new KeyedCertificate(spiffeId, cert.certificateChainPem(), Pem.privateKeyPkcs8(keys.getPrivate()),
                    cert.notBefore(), cert.notAfter(), fingerprint(cert.signer()));
        } catch (GeneralSecurityException | UnknownHostException e) {
            throw new IllegalStateException("cannot make the serving key: " + e.getMessage(), e);
        }
    }

    @Override
    public String trustBundlePem() {
        return ca().trustBundle().toPem();
    }
}
