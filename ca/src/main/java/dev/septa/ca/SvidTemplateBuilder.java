package dev.septa.ca;

import dev.septa.identity.SpiffeId;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509v3CertificateBuilder;

/**
 * Builds unsigned certificate templates. Pure: everything (names, keys, times, serial) is passed in, so the
 * templates are testable without a signer, and signing ({@link CertificateSigner}) and checking
 * ({@link IssuedCertificateValidator}) stay separate steps, as in SPIRE's CA.
 */
final class SvidTemplateBuilder {

    /** Subject of every leaf. The identity is the URI SAN; the subject only has to be non-empty (RFC 5280 4.1.2.6). */
    static final X500Name LEAF_SUBJECT = new X500Name("O=Septa");

    private SvidTemplateBuilder() {
    }

    /** Validity and serial of one certificate. */
    record Validity(BigInteger serial, Instant notBefore, Instant notAfter) {
    }

    /** X.509-SVID: URI SAN only, CA:false, digitalSignature, serverAuth + clientAuth. */
    static X509v3CertificateBuilder workload(X500Name issuer, byte[] issuerKeyId, SubjectPublicKeyInfo subjectKey,
                                             SpiffeId spiffeId, Validity validity) {
        return leaf(issuer, issuerKeyId, subjectKey, validity,
                new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, spiffeId.uri())),
                new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
    }

    /** The control plane's own TLS certificate: the SPIFFE URI plus DNS names and IPs, serverAuth only. */
    static X509v3CertificateBuilder serving(X500Name issuer, byte[] issuerKeyId, SubjectPublicKeyInfo subjectKey,
                                            SpiffeId spiffeId, List<String> dnsNames, List<InetAddress> ips,
                                            Validity validity) {
        List<GeneralName> names = new ArrayList<>();
        names.add(new GeneralName(GeneralName.uniformResourceIdentifier, spiffeId.uri()));
        dnsNames.forEach(dns -> names.add(new GeneralName(GeneralName.dNSName, dns)));
        ips.forEach(ip -> names.add(new GeneralName(GeneralName.iPAddress, new DEROctetString(ip.getAddress()))));
        return leaf(issuer, issuerKeyId, subjectKey, validity, new GeneralNames(names.toArray(GeneralName[]::new)),
                new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
    }

    /** Self-signed root. No path length limit, so that an intermediate can be placed under it later. */
    static X509v3CertificateBuilder root(X500Name subject, SubjectPublicKeyInfo key, String trustDomain, Validity validity) {
        byte[] keyId = keyIdentifier(key);
        X509v3CertificateBuilder builder = new X509v3CertificateBuilder(subject, validity.serial(),
                Date.from(validity.notBefore()), Date.from(validity.notAfter()), subject, key);
        try {
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            builder.addExtension(Extension.subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyId));
            builder.addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(keyId));
            // SPIFFE recommends the trust domain's ID on signing certificates; it also records which
            // trust domain a stored CA belongs to.
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(
                    new GeneralName(GeneralName.uniformResourceIdentifier, SpiffeId.trustDomainUri(trustDomain))));
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode root CA extensions", e);
        }
        return builder;
    }

    private static X509v3CertificateBuilder leaf(X500Name issuer, byte[] issuerKeyId, SubjectPublicKeyInfo subjectKey,
                                                 Validity validity, GeneralNames sans, ExtendedKeyUsage eku) {
        X509v3CertificateBuilder builder = new X509v3CertificateBuilder(issuer, validity.serial(),
                Date.from(validity.notBefore()), Date.from(validity.notAfter()), LEAF_SUBJECT, subjectKey);
        try {
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            builder.addExtension(Extension.extendedKeyUsage, false, eku);
            builder.addExtension(Extension.subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyIdentifier(subjectKey)));
            builder.addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(issuerKeyId));
            builder.addExtension(Extension.subjectAlternativeName, false, sans);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode certificate extensions", e);
        }
        return builder;
    }

    /** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
    static byte[] keyIdentifier(SubjectPublicKeyInfo key) {
        try {
            return MessageDigest.getInstance("SHA-1").digest(key.getPublicKeyData().getBytes());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 missing from the JDK", e);
        }
    }
}
