package dev.septa.identity;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A workload identity of the form {@code spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>}.
 *
 * <p>Stricter than the SPIFFE spec on purpose: the namespace must be a Kubernetes DNS-1123 label and the
 * service account a DNS-1123 subdomain, because those are the only identities Septa ever issues and a looser
 * parser would let two spellings of one workload compare unequal in RBAC principals.
 */
public record SpiffeId(String trustDomain, String namespace, String serviceAccount) {

    /** SPIFFE trust domain characters (lower case only, per the SPIFFE ID spec). */
    private static final Pattern TRUST_DOMAIN = Pattern.compile("[a-z0-9._-]{1,255}");
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    private static final Pattern DNS_SUBDOMAIN =
            Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    private static final String SCHEME = "spiffe://";

    /** Where the control plane runs; its serving certificate carries the SPIFFE ID of this service account. */
    public static final String CONTROL_PLANE_NAMESPACE = "septa-system";
    public static final String CONTROL_PLANE_SERVICE_ACCOUNT = "control-plane";

    public SpiffeId {
        requireTrustDomain(trustDomain);
        if (namespace == null || !DNS_LABEL.matcher(namespace).matches()) {
            throw new IllegalArgumentException("namespace '" + namespace
                    + "' is not a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)");
        }
        if (serviceAccount == null || serviceAccount.length() > 253 || !DNS_SUBDOMAIN.matcher(serviceAccount).matches()) {
            throw new IllegalArgumentException("service account '" + serviceAccount
                    + "' is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', at most 253 characters)");
        }
    }

    public static SpiffeId of(String trustDomain, String namespace, String serviceAccount) {
        return new SpiffeId(trustDomain, namespace, serviceAccount);
    }

    /**
     * Parses {@code spiffe://<td>/ns/<ns>/sa/<sa>}.
     *
     * @throws IllegalArgumentException naming what is wrong and the expected form
     */
    public static SpiffeId parse(String text) {
        if (text == null || !text.startsWith(SCHEME)) {
            throw wrongForm(text, "it must start with 'spiffe://'");
        }
        String rest = text.substring(SCHEME.length());
        int slash = rest.indexOf('/');
        if (slash <= 0) {
            throw wrongForm(text, slash == 0 ? "the trust domain is empty" : "there is no path after the trust domain");
        }
        String td = rest.substring(0, slash);
        String path = rest.substring(slash);
        if (!TRUST_DOMAIN.matcher(td).matches()) {
            throw wrongForm(text, "trust domain '" + td + "' may only contain a-z, 0-9, '.', '-' and '_'"
                    + " (no port, user info or upper case)");
        }
        String[] parts = path.split("/", -1);
        // "/ns/x/sa/y" splits into ["", "ns", x, "sa", y]
        if (parts.length != 5 || !parts[1].equals("ns") || !parts[3].equals("sa")) {
            throw wrongForm(text, "the path must be exactly /ns/<namespace>/sa/<serviceAccount>");
        }
        try {
            return new SpiffeId(td, parts[2], parts[4]);
        } catch (IllegalArgumentException e) {
            throw wrongForm(text, e.getMessage());
        }
    }

    /** The trust domain rule alone, for configuration checks. */
    public static String requireTrustDomain(String trustDomain) {
        if (trustDomain == null || !TRUST_DOMAIN.matcher(trustDomain).matches()) {
            throw new IllegalArgumentException("trust domain '" + trustDomain
                    + "' is not valid: use 1-255 characters of a-z, 0-9, '.', '-' and '_', e.g. cluster.local");
        }
        return trustDomain;
    }

    /**
     * The SPIFFE ID in a certificate's URI SANs, if it has exactly one {@code spiffe://} URI (as an X.509-SVID must).
     * Empty when there is none, more than one, or it is not of Septa's form.
     */
    public static Optional<SpiffeId> fromCertificate(X509Certificate certificate) {
        Collection<List<?>> sans;
        try {
            sans = certificate.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return Optional.empty();
        }
        if (sans == null) {
            return Optional.empty();
        }
        List<String> uris = sans.stream()
                .filter(san -> Integer.valueOf(6).equals(san.get(0)))
                .map(san -> (String) san.get(1))
                .filter(uri -> uri.startsWith(SCHEME))
                .toList();
        if (uris.size() != 1) {
            return Optional.empty();
        }
        try {
            return Optional.of(parse(uris.getFirst()));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** The trust domain of a CA certificate's {@code spiffe://<td>} URI SAN, if it has one. */
    public static Optional<String> trustDomainOf(X509Certificate certificate) {
        try {
            var sans = certificate.getSubjectAlternativeNames();
            if (sans == null) {
                return Optional.empty();
            }
            return sans.stream()
                    .filter(san -> Integer.valueOf(6).equals(san.get(0)))
                    .map(san -> (String) san.get(1))
                    .filter(uri -> uri.startsWith(SCHEME))
                    .map(uri -> uri.substring(SCHEME.length()).split("/", 2)[0])
                    .filter(td -> TRUST_DOMAIN.matcher(td).matches())
                    .findFirst();
        } catch (CertificateParsingException e) {
            return Optional.empty();
        }
    }

    public String uri() {
        return uri(trustDomain, namespace, serviceAccount);
    }

    /**
     * The text of {@code spiffe://<td>/ns/<ns>/sa/<sa>} without the checks of the constructor: for names a parser
     * has already checked (the policy parser does) on paths that build one ID per workload per compile.
     */
    public static String uri(String trustDomain, String namespace, String serviceAccount) {
        return namespacePrefix(trustDomain, namespace) + serviceAccount;
    }

    /** The control plane's own SPIFFE ID in {@code trustDomain} (decision 0002): what proxies verify it by. */
    public static String controlPlane(String trustDomain) {
        return uri(trustDomain, CONTROL_PLANE_NAMESPACE, CONTROL_PLANE_SERVICE_ACCOUNT);
    }

    /** {@code spiffe://<td>/ns/<ns>/sa/}: the prefix every SPIFFE ID of the namespace's workloads starts with. */
    public static String namespacePrefix(String trustDomain, String namespace) {
        return trustDomainUri(trustDomain) + path(namespace, "");
    }

    /** {@code /ns/<ns>/sa/<sa>}: the path of a SPIFFE ID, the part a Kubernetes service account determines. */
    public static String path(String namespace, String serviceAccount) {
        return "/ns/" + namespace + "/sa/" + serviceAccount;
    }

    /** {@code spiffe://<td>}: the URI SAN of a CA certificate of the trust domain. */
    public static String trustDomainUri(String trustDomain) {
        return SCHEME + trustDomain;
    }

    /** {@link #parse}, empty instead of an exception: for text that is reported, not trusted (access logs). */
    public static Optional<SpiffeId> tryParse(String text) {
        try {
            return Optional.of(parse(text));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    @Override
    public String toString() {
        return uri();
    }

    private static IllegalArgumentException wrongForm(String text, String why) {
        return new IllegalArgumentException("'" + text + "' is not a workload SPIFFE ID: " + why
                + "; expected spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>");
    }
}
