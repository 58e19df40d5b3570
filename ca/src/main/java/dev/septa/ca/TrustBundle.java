package dev.septa.ca;

import dev.septa.identity.Pem;
import dev.septa.identity.SpiffeId;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The roots a peer trusts for one trust domain. More than one root is normal during root rotation
 * (old and new published side by side), so this is a list from the start.
 */
public record TrustBundle(String trustDomain, List<X509Certificate> roots) {

    public TrustBundle {
        SpiffeId.requireTrustDomain(trustDomain);
        roots = List.copyOf(roots);
        if (roots.isEmpty()) {
            throw new IllegalArgumentException("a trust bundle needs at least one root");
        }
        if (new LinkedHashSet<>(roots).size() != roots.size()) {
            throw new IllegalArgumentException("a trust bundle must not list the same root twice");
        }
    }

    public static TrustBundle of(String trustDomain, X509Certificate... roots) {
        return new TrustBundle(trustDomain, List.of(roots));
    }

    /** The roots as concatenated PEM, oldest first: what Envoy's {@code ROOTCA} and {@code ca.pem} hold. */
    public String toPem() {
        return Pem.certificates(roots);
    }

    public boolean contains(X509Certificate root) {
        return roots.contains(root);
    }

    /** For {@link java.security.cert.PKIXParameters} and {@link javax.net.ssl.TrustManagerFactory} setups. */
    public Set<TrustAnchor> trustAnchors() {
        return roots.stream().map(r -> new TrustAnchor(r, null)).collect(Collectors.toUnmodifiableSet());
    }

    /** A bundle with one more root (rotation publishes the next root before it signs anything). */
    public TrustBundle withRoot(X509Certificate root) {
        if (contains(root)) {
            return this;
        }
        var all = new java.util.ArrayList<>(roots);
        all.add(root);
        return new TrustBundle(trustDomain, all);
    }

    @Override
    public String toString() {
        return "TrustBundle[" + trustDomain + ", roots=" + roots.stream()
                .map(r -> r.getSubjectX500Principal() + " until " + r.getNotAfter().toInstant())
                .toList() + "]";
    }
}
