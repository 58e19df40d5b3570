package dev.septa.ca;

import java.security.KeyPair;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** CSRs with unusual contents built with Bouncy Castle (openssl makes the ordinary ones). */
final class Csrs {

    private Csrs() {
    }

    static byte[] withExtension(KeyPair keys, org.bouncycastle.asn1.ASN1ObjectIdentifier oid, boolean critical, ASN1Encodable value) {
        try {
            ExtensionsGenerator extensions = new ExtensionsGenerator();
            extensions.addExtension(oid, critical, value);
            return build(keys, extensions.generate());
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] plain(KeyPair keys) {
        return build(keys, null);
    }

    static byte[] build(KeyPair keys, Extensions extensions) {
        try {
            var builder = new JcaPKCS10CertificationRequestBuilder(new X500Name("O=test"), keys.getPublic());
            if (extensions != null) {
                builder.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions);
            }
            String algorithm = keys.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
            return builder.build(new JcaContentSignerBuilder(algorithm).build(keys.getPrivate())).getEncoded();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static final org.bouncycastle.asn1.ASN1ObjectIdentifier SAN = Extension.subjectAlternativeName;
}
