package dev.septa.ca;

import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

/**
 * Which subject keys the CA certifies: EC P-256 and P-384 (named curves only), RSA 2048 to 8192 bits.
 * Everything else is refused: weaker curves and RSA sizes for strength, Ed25519/Ed448 because Envoy's and
 * grpc-java's TLS stacks in the mesh cannot be relied on to negotiate them for client certificates.
 */
final class KeyPolicy {

    static final int MIN_RSA_BITS = 2048;
    static final int MAX_RSA_BITS = 8192;

    private KeyPolicy() {
    }

    /** Checks the key and returns it as a JDK public key. */
    static PublicKey check(SubjectPublicKeyInfo spki) {
        ASN1ObjectIdentifier algorithm = spki.getAlgorithm().getAlgorithm();
        String jdkAlgorithm;
        if (algorithm.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
            var parameters = spki.getAlgorithm().getParameters();
            if (!(parameters instanceof ASN1ObjectIdentifier curve)) {
                throw refuse("EC keys must use a named curve (P-256 or P-384), not explicit curve parameters");
            }
            if (!curve.equals(SECObjectIdentifiers.secp256r1) && !curve.equals(SECObjectIdentifiers.secp384r1)) {
                throw refuse("EC curve " + curveName(curve) + " is not accepted; use P-256 (recommended) or P-384");
            }
            jdkAlgorithm = "EC";
        } else if (algorithm.equals(PKCSObjectIdentifiers.rsaEncryption)) {
            int bits;
            try {
                bits = org.bouncycastle.asn1.pkcs.RSAPublicKey.getInstance(spki.parsePublicKey()).getModulus().bitLength();
            } catch (Exception e) {
                throw refuse("RSA public key is malformed");
            }
            if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
                throw refuse("RSA-" + bits + " is not accepted; RSA keys must have " + MIN_RSA_BITS + " to " + MAX_RSA_BITS
                        + " bits (EC P-256 is recommended)");
            }
            jdkAlgorithm = "RSA";
        } else if (algorithm.equals(EdECObjectIdentifiers.id_Ed25519) || algorithm.equals(EdECObjectIdentifiers.id_Ed448)) {
            throw refuse((algorithm.equals(EdECObjectIdentifiers.id_Ed25519) ? "Ed25519" : "Ed448")
                    + " keys are not supported; use EC P-256");
        } else {
            throw refuse("public key algorithm " + algorithm + " is not supported; use EC P-256");
        }
        try {
            return KeyFactory.getInstance(jdkAlgorithm).generatePublic(new X509EncodedKeySpec(spki.getEncoded()));
        } catch (Exception e) {
            throw refuse(jdkAlgorithm + " public key is malformed (" + e.getMessage() + ")");
        }
    }

    static PublicKey check(PublicKey key) {
        SubjectPublicKeyInfo spki;
        try {
            spki = SubjectPublicKeyInfo.getInstance(key.getEncoded());
        } catch (RuntimeException e) {
            throw refuse("public key of type " + key.getAlgorithm() + " cannot be encoded as SubjectPublicKeyInfo");
        }
        if (spki == null) {
            throw refuse("public key of type " + key.getAlgorithm() + " has no X.509 encoding");
        }
        return check(spki);
    }

    private static String curveName(ASN1ObjectIdentifier curve) {
        String name = org.bouncycastle.asn1.x9.ECNamedCurveTable.getName(curve);
        return name == null ? curve.getId() : name + " (" + curve.getId() + ")";
    }

    private static IssuanceRefusedException refuse(String message) {
        return new IssuanceRefusedException(RefusalReason.WEAK_OR_UNSUPPORTED_KEY, message);
    }
}
