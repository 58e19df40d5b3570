package dev.septa.ca;

import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;

/**
 * Checks signing material before the CA uses it, each failure with its own message: the key matches the
 * certificate, the certificate is a CA, it chains to a root of the trust bundle, it is valid now, and it
 * lives long enough to sign certificates of the default TTL. {@code certSource}/{@code keySource}/{@code
 * rootSource} name where each part came from (file paths) for the messages.
 */
final class SigningCaValidator {

    record Sources(String certSource, String keySource, String rootSource) {
    }

    private SigningCaValidator() {
    }

    /** @return the root in the bundle that the signer chains to */
    static X509Certificate validate(CaMaterial material, CaConfig config, Clock clock, Sources sources) {
        X509Certificate signer = material.signingCertificate();
        String cert = "the certificate in " + sources.certSource() + " (" + signer.getSubjectX500Principal().getName() + ")";
        checkKeyMatches(material.signingKey(), signer.getPublicKey(), sources, cert);
        if (signer.getBasicConstraints() < 0) {
            throw invalid(cert + " is not a CA: basicConstraints CA:true is missing, so it cannot sign certificates");
        }
        boolean[] usage = signer.getKeyUsage();
        if (usage != null && !usage[5]) {
            throw invalid(cert + " is a CA but its key usage lacks keyCertSign");
        }
        Instant now = clock.instant();
        for (X509Certificate c : material.signingChain()) {
            checkValidNow(c, now, c == signer ? cert : "the chain certificate " + c.getSubjectX500Principal().getName()
                    + " in " + sources.certSource());
        }
        X509Certificate root = chainRoot(material, now, sources, cert);
        checkValidNow(root, now, "the root " + root.getSubjectX500Principal().getName() + " in " + sources.rootSource());
        checkTrustDomain(signer, config.trustDomain(), cert);
        checkTrustDomain(root, config.trustDomain(), "the root in " + sources.rootSource());
        Instant needed = now.plus(config.defaultTtl());
        Instant signerEnd = signer.getNotAfter().toInstant();
        if (signerEnd.isBefore(needed)) {
            throw invalid(cert + " expires at " + signerEnd + ", in " + Duration.between(now, signerEnd).toMinutes()
                    + " minutes: less than the workload certificate TTL " + CertificateAuthority.format(config.defaultTtl())
                    + "; renew it or lower the TTL");
        }
        return root;
    }

    private static void checkKeyMatches(PrivateKey key, PublicKey publicKey, Sources sources, String cert) {
        if (!key.getAlgorithm().equals(publicKey.getAlgorithm())) {
            throw invalid("the private key in " + sources.keySource() + " (" + key.getAlgorithm()
                    + ") does not match " + cert + " (" + publicKey.getAlgorithm() + " key)");
        }
        boolean matches = isKeyPair(key, publicKey);
        if (!matches) {
            throw invalid("the private key in " + sources.keySource() + " does not match " + cert
                    + " (they are not a key pair)");
        }
    }

    /** Proof by use: a random challenge signed with the key verifies with the public key. */
    static boolean isKeyPair(PrivateKey key, PublicKey publicKey) {
        if (!key.getAlgorithm().equals(publicKey.getAlgorithm())) {
            return false;
        }
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            String algorithm = CertificateSigner.signatureAlgorithm(key);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(challenge);
            return verifier.verify(signature);
        } catch (Exception e) {
            return false;
        }
    }

    private static void checkValidNow(X509Certificate c, Instant now, String what) {
        Instant notBefore = c.getNotBefore().toInstant();
        Instant notAfter = c.getNotAfter().toInstant();
        if (now.isAfter(notAfter)) {
            throw invalid(what + " expired at " + notAfter);
        }
        if (now.isBefore(notBefore)) {
            throw invalid(what + " is not valid before " + notBefore + " (check the clock)");
        }
    }

    private static X509Certificate chainRoot(CaMaterial material, Instant now, Sources sources, String cert) {
        TrustBundle bundle = material.trustBundle();
        if (material.signerIsRoot()) {
            X509Certificate root = material.signingCertificate();
            try {
                root.verify(root.getPublicKey());
            } catch (Exception e) {
                throw invalid(cert + " is a root but its self-signature does not verify");
            }
            return root;
        }
        List<X509Certificate> chain = material.signingChain();
        try {
            PKIXParameters parameters = new PKIXParameters(bundle.trustAnchors());
            parameters.setRevocationEnabled(false);
            parameters.setDate(Date.from(now));
            var result = (java.security.cert.PKIXCertPathValidatorResult) CertPathValidator.getInstance("PKIX")
                    .validate(CertificateFactory.getInstance("X.509").generateCertPath(chain), parameters);
            return result.getTrustAnchor().getTrustedCert();
        } catch (CertPathValidatorException e) {
            throw invalid(cert + " does not chain to the root in " + sources.rootSource() + ": " + e.getMessage()
                    + (chain.size() == 1 ? " (if it was issued by another intermediate, supply that one in the chain)" : ""));
        } catch (Exception e) {
            throw invalid(cert + " chain cannot be checked: " + e.getMessage());
        }
    }

    private static void checkTrustDomain(X509Certificate c, String trustDomain, String what) {
        try {
            var sans = c.getSubjectAlternativeNames();
            if (sans == null) {
                return;
            }
            for (List<?> san : sans) {
                if (Integer.valueOf(6).equals(san.get(0)) && san.get(1) instanceof String uri && uri.startsWith("spiffe://")) {
                    String domain = uri.substring(9).split("/", 2)[0];
                    if (!domain.equals(trustDomain)) {
                        throw invalid(what + " belongs to trust domain '" + domain + "' but the CA is configured for '"
                                + trustDomain + "'");
                    }
                }
            }
        } catch (java.security.cert.CertificateParsingException e) {
            throw invalid(what + " has an unreadable subject alternative name extension");
        }
    }

    private static InvalidSigningCaException invalid(String message) {
        return new InvalidSigningCaException(message);
    }
}
