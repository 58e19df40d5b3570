package dev.septa.ca;

import dev.septa.identity.SpiffeId;
import java.net.InetAddress;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509v3CertificateBuilder;

/**
 * Septa's workload CA: issues X.509-SVIDs for {@code spiffe://<td>/ns/<ns>/sa/<sa>} and the control plane's own
 * serving certificate, and publishes the trust bundle.
 *
 * <p>Each issuance runs the same steps, kept in separate classes as in SPIRE's CA: check the request
 * ({@link CsrValidator}, {@link KeyPolicy}, trust domain, TTL), build the template ({@link SvidTemplateBuilder}),
 * sign it ({@link CertificateSigner}), and verify the result ({@link IssuedCertificateValidator}) before it is
 * returned. Lifetimes: notBefore is back-dated by {@link CaConfig#backdate()} for clock skew; notAfter is
 * now + TTL, <em>capped</em> at the signer's own notAfter (as SPIRE does), so a certificate never outlives its
 * issuer; when the signer has less than the minimum TTL left, issuance is refused with
 * {@link RefusalReason#SIGNER_EXPIRING}.
 *
 * <p>Thread-safe. The signer sits behind one volatile reference so that a rotation of the signing CA
 * ({@link RootRotation}) can swap it without locking the issuing path.
 */
public final class CertificateAuthority {

    private static final System.Logger LOG = System.getLogger(CertificateAuthority.class.getName());
    private static final Pattern DNS_NAME =
            Pattern.compile("(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*");

    /** Everything that changes together when the signer changes. */
    private record SigningState(CaMaterial material, CertificateSigner signer, IssuedCertificateValidator validator,
                                X509Certificate root) {
    }

    private final CaConfig config;
    private final Clock clock;
    private final IssuanceListener listener;
    private final SecureRandom random = new SecureRandom();
    private volatile SigningState state;

    private CertificateAuthority(CaMaterial material, CaConfig config, Clock clock, IssuanceListener listener,
                                 SigningCaValidator.Sources sources) {
        this.config = Objects.requireNonNull(config, "config");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.listener = Objects.requireNonNull(listener, "listener");
        X509Certificate root = SigningCaValidator.validate(material, config, clock, sources);
        if (!material.trustBundle().trustDomain().equals(config.trustDomain())) {
            throw new InvalidSigningCaException("the trust bundle is for trust domain '" + material.trustBundle().trustDomain()
                    + "' but the CA is configured for '" + config.trustDomain() + "'");
        }
        this.state = new SigningState(material, new CertificateSigner(material.signingKey(), material.signingCertificate()),
                new IssuedCertificateValidator(material.signingCertificate()), root);
    }

    /**
     * Opens the CA kept in {@code store}, creating and saving a new root when the store is empty. A store that is
     * incomplete, corrupt or for another trust domain is refused ({@link CaStoreException},
     * {@link InvalidSigningCaException}), never replaced.
     */
    public static CertificateAuthority open(CaKeyStore store, CaConfig config, Clock clock, IssuanceListener listener) {
        CaMaterial material = store.load().orElse(null);
        if (material == null) {
            store.create(RootCaGenerator.generate(config, clock)); // another process may have created one meanwhile
            // Read back what was written, so that a store which cannot round-trip fails now rather than on restart.
            material = store.load().orElseThrow(() -> new CaStoreException(
                    "CA store " + store.location() + " is still empty right after saving a new root"));
        }
        String where = store.location();
        return new CertificateAuthority(material, config, clock, listener, new SigningCaValidator.Sources(where, where, where));
    }

    /** Opens the CA kept in {@code store}; an empty store is an error here (for tools that must not create a CA). */
    public static CertificateAuthority openExisting(CaKeyStore store, CaConfig config, Clock clock, IssuanceListener listener) {
        CaMaterial material = store.load().orElseThrow(() -> new CaStoreException("CA store " + store.location()
                + " holds no CA yet"));
        String where = store.location();
        return new CertificateAuthority(material, config, clock, listener, new SigningCaValidator.Sources(where, where, where));
    }

    public static CertificateAuthority open(CaKeyStore store, CaConfig config) {
        return open(store, config, Clock.systemUTC(), IssuanceListener.NONE);
    }

    /** A CA over material held in memory (tests, or an intermediate loaded with {@link IntermediateLoader}). */
    public static CertificateAuthority fromMaterial(CaMaterial material, CaConfig config, Clock clock, IssuanceListener listener) {
        return new CertificateAuthority(material, config, clock, listener,
                new SigningCaValidator.Sources("the signing material", "the signing material", "the trust bundle"));
    }

    /**
     * Swaps in new signing material (root rotation): validated like material loaded at start (chain to a root of
     * its bundle, same trust domain); certificates being signed concurrently finish with the old signer.
     */
    public void replaceMaterial(CaMaterial material) {
        X509Certificate root = SigningCaValidator.validate(material, config, clock,
                new SigningCaValidator.Sources("the new signing material", "the new signing material", "the new trust bundle"));
        if (!material.trustBundle().trustDomain().equals(config.trustDomain())) {
            throw new InvalidSigningCaException("the new trust bundle is for trust domain '" + material.trustBundle().trustDomain()
                    + "' but the CA is configured for '" + config.trustDomain() + "'");
        }
        this.state = new SigningState(material, new CertificateSigner(material.signingKey(), material.signingCertificate()),
                new IssuedCertificateValidator(material.signingCertificate()), root);
    }

    public CaConfig config() {
        return config;
    }

    public String trustDomain() {
        return config.trustDomain();
    }

    public TrustBundle trustBundle() {
        return state.material().trustBundle();
    }

    /** The certificate that signs workload certificates (the root, or an operator-supplied intermediate). */
    public X509Certificate signingCertificate() {
        return state.material().signingCertificate();
    }

    /** Issues a workload certificate of the default TTL for a PKCS#10 request (DER, or PEM text as bytes). */
    public IssuedCertificate issue(byte[] csr, SpiffeId spiffeId) {
        return issue(csr, spiffeId, config.defaultTtl());
    }

    /** Issues a workload certificate for a PKCS#10 request (DER, or PEM text as bytes). */
    public IssuedCertificate issue(byte[] csr, SpiffeId spiffeId, Duration ttl) {
        long start = System.nanoTime();
        try {
            checkRequest(spiffeId, ttl);
            CsrValidator.CheckedCsr checked = CsrValidator.check(csr, spiffeId);
            return issued(IssuanceListener.Kind.WORKLOAD, start,
                    sign(checked.subjectPublicKeyInfo(), checked.publicKey(), spiffeId, List.of(), List.of(), false, ttl));
        } catch (IssuanceRefusedException e) {
            throw refused(IssuanceListener.Kind.WORKLOAD, start, e);
        }
    }

    /** Issues a workload certificate for a public key the caller holds the private key of. */
    public IssuedCertificate issue(PublicKey publicKey, SpiffeId spiffeId, Duration ttl) {
        long start = System.nanoTime();
        try {
            checkRequest(spiffeId, ttl);
            PublicKey key = KeyPolicy.check(publicKey);
            return issued(IssuanceListener.Kind.WORKLOAD, start,
                    sign(SubjectPublicKeyInfo.getInstance(key.getEncoded()), key, spiffeId, List.of(), List.of(), false, ttl));
        } catch (IssuanceRefusedException e) {
            throw refused(IssuanceListener.Kind.WORKLOAD, start, e);
        }
    }

    /**
     * Makes a fresh EC P-256 key pair for a workload and certifies it: for SDS, where the control plane
     * hands the workload its key (decision 0002).
     */
    public WorkloadCredential issueWorkloadCredential(SpiffeId spiffeId, Duration ttl) {
        KeyPair keys = RootCaGenerator.generateP256();
        return new WorkloadCredential(keys.getPrivate(), issue(keys.getPublic(), spiffeId, ttl));
    }

    public WorkloadCredential issueWorkloadCredential(SpiffeId spiffeId) {
        return issueWorkloadCredential(spiffeId, config.defaultTtl());
    }

    /**
     * The control plane's own TLS serving certificate: its SPIFFE ID plus DNS and IP SANs, serverAuth only.
     * Deliberately separate from {@link #issue}: workload certificates never carry any SAN but the SPIFFE ID.
     */
    public IssuedCertificate issueServingCertificate(PublicKey publicKey, SpiffeId spiffeId, List<String> dnsNames,
                                                     List<InetAddress> ips, Duration ttl) {
        long start = System.nanoTime();
        try {
            checkRequest(spiffeId, ttl);
            for (String dns : dnsNames) {
                if (dns == null || !DNS_NAME.matcher(dns).matches()) {
                    throw new IssuanceRefusedException(RefusalReason.BAD_SERVING_NAME, "'" + dns
                            + "' is not a DNS name (lower-case labels of letters, digits and '-'; no wildcards)");
                }
            }
            for (InetAddress ip : ips) {
                Objects.requireNonNull(ip, "ip");
            }
            PublicKey key = KeyPolicy.check(publicKey);
            return issued(IssuanceListener.Kind.SERVING, start, sign(SubjectPublicKeyInfo.getInstance(key.getEncoded()),
                    key, spiffeId, List.copyOf(dnsNames), List.copyOf(ips), true, ttl));
        } catch (IssuanceRefusedException e) {
            throw refused(IssuanceListener.Kind.SERVING, start, e);
        }
    }

    private void checkRequest(SpiffeId spiffeId, Duration ttl) {
        Objects.requireNonNull(spiffeId, "spiffeId");
        Objects.requireNonNull(ttl, "ttl");
        if (!spiffeId.trustDomain().equals(config.trustDomain())) {
            throw new IssuanceRefusedException(RefusalReason.FOREIGN_TRUST_DOMAIN, spiffeId + " is outside trust domain '"
                    + config.trustDomain() + "'; this CA only issues spiffe://" + config.trustDomain() + "/...");
        }
        if (ttl.compareTo(config.minTtl()) < 0 || ttl.compareTo(config.maxTtl()) > 0) {
            throw new IssuanceRefusedException(RefusalReason.TTL_OUT_OF_RANGE, "TTL " + format(ttl)
                    + " is outside the allowed range " + format(config.minTtl()) + " to " + format(config.maxTtl()));
        }
    }

    private IssuedCertificate sign(SubjectPublicKeyInfo spki, PublicKey key, SpiffeId spiffeId, List<String> dnsNames,
                                   List<InetAddress> ips, boolean serving, Duration ttl) {
        SigningState current = state;
        X509Certificate signerCert = current.signer().certificate();
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        Instant signerNotBefore = signerCert.getNotBefore().toInstant();
        Instant signerNotAfter = signerCert.getNotAfter().toInstant();
        if (Duration.between(now, signerNotAfter).compareTo(config.minTtl()) < 0) {
            throw new IssuanceRefusedException(RefusalReason.SIGNER_EXPIRING, "the signing CA expires at " + signerNotAfter
                    + ", less than the minimum TTL " + format(config.minTtl()) + " from now; renew the CA");
        }
        Instant notBefore = max(now.minus(config.backdate()), signerNotBefore);
        Instant notAfter = min(now.plus(ttl), signerNotAfter);
        var validity = new SvidTemplateBuilder.Validity(RootCaGenerator.randomSerial(random), notBefore, notAfter);
        X509v3CertificateBuilder template = serving
                ? SvidTemplateBuilder.serving(current.signer().issuerName(), current.signer().keyIdentifier(), spki,
                        spiffeId, dnsNames, ips, validity)
                : SvidTemplateBuilder.workload(current.signer().issuerName(), current.signer().keyIdentifier(), spki,
                        spiffeId, validity);
        X509Certificate leaf = current.signer().sign(template);
        current.validator().validate(leaf, new IssuedCertificateValidator.Expected(key, spiffeId, dnsNames, ips, serving,
                validity.serial(), notBefore, notAfter));
        var chain = new java.util.ArrayList<X509Certificate>(2 + current.material().intermediates().size());
        chain.add(leaf);
        if (!current.material().signerIsRoot()) {
            chain.addAll(current.material().signingChain());
        }
        return new IssuedCertificate(spiffeId, chain, current.root());
    }

    private IssuedCertificate issued(IssuanceListener.Kind kind, long start, IssuedCertificate certificate) {
        try {
            listener.issued(kind, certificate, Duration.ofNanos(System.nanoTime() - start));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "issuance listener failed: " + e);
        }
        return certificate;
    }

    private IssuanceRefusedException refused(IssuanceListener.Kind kind, long start, IssuanceRefusedException e) {
        try {
            listener.refused(kind, e.reason(), Duration.ofNanos(System.nanoTime() - start));
        } catch (RuntimeException failure) {
            LOG.log(System.Logger.Level.WARNING, "issuance listener failed: " + failure);
        }
        return e;
    }

    private static Instant max(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    private static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    static String format(Duration d) {
        return d.toString().substring(2).toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public String toString() {
        return "CertificateAuthority[" + config.trustDomain() + ", signer="
                + state.material().signingCertificate().getSubjectX500Principal() + "]";
    }
}
