package dev.septa.ca;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;

/** Creates a self-signed ECDSA P-256 root for a trust domain. */
public final class RootCaGenerator {

    private RootCaGenerator() {
    }

    public static CaMaterial generate(CaConfig config, Clock clock) {
        KeyPair keys = generateP256();
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        BigInteger serial = randomSerial(new SecureRandom());
        // The serial in the name keeps successive roots of one trust domain apart (rotation publishes two).
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.O, "Septa")
                .addRDN(BCStyle.CN, "Septa root CA " + config.trustDomain())
                .addRDN(BCStyle.SERIALNUMBER, serial.toString(16))
                .build();
        var validity = new SvidTemplateBuilder.Validity(serial, now.minus(config.backdate()), now.plus(config.rootLifetime()));
        X509Certificate root = CertificateSigner.sign(SvidTemplateBuilder.root(subject,
                SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded()), config.trustDomain(), validity), keys.getPrivate());
        return new CaMaterial(keys.getPrivate(), root, List.of(), TrustBundle.of(config.trustDomain(), root));
    }

    static KeyPair generateP256() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK cannot generate EC P-256 keys", e);
        }
    }

    /** 128 random bits, positive and non-zero (RFC 5280 allows up to 20 octets; CA/B asks for 64+ random bits). */
    static BigInteger randomSerial(SecureRandom random) {
        BigInteger serial;
        do {
            serial = new BigInteger(128, random);
        } while (serial.signum() == 0);
        return serial;
    }
}
