package dev.septa.ca;

import dev.septa.identity.Pem;
import dev.septa.identity.PemException;
import dev.septa.identity.PemReader;
import dev.septa.identity.SpiffeId;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A CA as the four texts every {@link CaKeyStore} keeps (files in a directory, keys of a Kubernetes Secret): the
 * PKCS#8 signing key, the trust domain, the trust bundle and the signing chain. One place turns them into a
 * checked {@link CaMaterial} and back, so every store refuses the same damage with the same reasons.
 */
public final class StoredCa {
    public static final String KEY = "signing-key.pem";
    public static final String TRUST_DOMAIN = "trust-domain";
    public static final String BUNDLE = "trust-bundle.pem";
    public static final String CHAIN = "signing-chain.pem";
    /** In the order a store writes them; the chain last. */
    public static final List<String> PARTS = List.of(KEY, TRUST_DOMAIN, BUNDLE, CHAIN);

    private StoredCa() {
    }

    /** The texts of {@code material}, in {@link #PARTS} order. */
    public static Map<String, String> encode(CaMaterial material) {
        Map<String, String> parts = new LinkedHashMap<>();
        parts.put(KEY, Pem.privateKeyPkcs8(material.signingKey()));
        parts.put(TRUST_DOMAIN, material.trustBundle().trustDomain() + "\n");
        parts.put(BUNDLE, material.trustBundle().toPem());
        parts.put(CHAIN, Pem.certificates(material.signingChain()));
        return parts;
    }

    /**
     * Parses and checks the four texts (all present). {@code where} names a part in messages (its file, its Secret
     * key); every problem comes back through {@code corrupt}, which adds what the operator can do about it.
     */
    public static CaMaterial decode(Map<String, String> parts, Function<String, String> where,
                                    Function<String, CaStoreException> corrupt) {
        PrivateKey signingKey;
        List<X509Certificate> roots;
        List<X509Certificate> signingChain;
        try {
            signingKey = PemReader.privateKey(parts.get(KEY), where.apply(KEY));
            roots = PemReader.certificates(parts.get(BUNDLE), where.apply(BUNDLE));
            signingChain = PemReader.certificates(parts.get(CHAIN), where.apply(CHAIN));
        } catch (PemException e) {
            throw corrupt.apply(e.getMessage());
        }
        if (!SigningCaValidator.isKeyPair(signingKey, signingChain.getFirst().getPublicKey())) {
            throw corrupt.apply(where.apply(KEY) + " does not hold the private key of the first certificate in " + where.apply(CHAIN));
        }
        String trustDomain = parts.get(TRUST_DOMAIN).strip();
        try {
            SpiffeId.requireTrustDomain(trustDomain);
        } catch (IllegalArgumentException e) {
            throw corrupt.apply(where.apply(TRUST_DOMAIN) + ":1: " + e.getMessage());
        }
        try {
            return new CaMaterial(signingKey, signingChain.getFirst(), signingChain.subList(1, signingChain.size()),
                    new TrustBundle(trustDomain, roots));
        } catch (IllegalArgumentException e) {
            throw corrupt.apply(where.apply(BUNDLE) + ": " + e.getMessage());
        }
    }
}
