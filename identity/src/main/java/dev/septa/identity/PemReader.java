package dev.septa.identity;

import java.io.ByteArrayInputStream;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;

/**
 * Strict PEM reading with errors that say which block is wrong and what was expected. {@code source} names
 * where the text came from (a file path, "Secret ca/septa-ca key") and is put in every message.
 * Messages never contain key material.
 */
public final class PemReader {

    /** One PEM block: its label ("CERTIFICATE") and DER bytes. */
    public record Block(String label, byte[] der, int line) {
        @Override
        public String toString() {
            return "Block[" + label + " at line " + line + "]";
        }
    }

    private PemReader() {
    }

    public static List<Block> blocks(String text, String source) {
        List<Block> blocks = new ArrayList<>();
        String[] lines = text.split("\r?\n", -1);
        String label = null;
        int start = 0;
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (label == null) {
                if (line.startsWith("-----BEGIN ") && line.endsWith("-----")) {
                    label = line.substring(11, line.length() - 5);
                    start = i + 1;
                    body.setLength(0);
                } else if (line.startsWith("-----END ")) {
                    throw new PemException(source + ":" + (i + 1) + ": END line without a BEGIN line");
                }
            } else if (line.startsWith("-----END ")) {
                String end = line.substring(9, Math.max(9, line.length() - 5));
                if (!end.equals(label)) {
                    throw new PemException(source + ":" + (i + 1) + ": '-----END " + end + "-----' does not close '-----BEGIN "
                            + label + "-----' from line " + start);
                }
                byte[] der;
                try {
                    der = Base64.getDecoder().decode(body.toString());
                } catch (IllegalArgumentException e) {
                    throw new PemException(source + ":" + start + ": " + label + " block is not valid base64");
                }
                if (der.length == 0) {
                    throw new PemException(source + ":" + start + ": " + label + " block is empty");
                }
                blocks.add(new Block(label, der, start));
                label = null;
            } else if (!line.isEmpty()) {
                body.append(line);
            }
        }
        if (label != null) {
            throw new PemException(source + ":" + start + ": '-----BEGIN " + label
                    + "-----' has no END line (truncated file?)");
        }
        return blocks;
    }

    /** All certificates in the text; at least one. Any non-certificate block is an error. */
    public static List<X509Certificate> certificates(String text, String source) {
        List<Block> blocks = blocks(text, source);
        if (blocks.isEmpty()) {
            throw new PemException(source + ": no PEM certificate found (expected '-----BEGIN CERTIFICATE-----')");
        }
        List<X509Certificate> certificates = new ArrayList<>(blocks.size());
        for (Block block : blocks) {
            if (!block.label().equals("CERTIFICATE")) {
                throw new PemException(source + ":" + block.line() + ": expected a CERTIFICATE block, found "
                        + block.label());
            }
            certificates.add(certificate(block.der(), source + ":" + block.line()));
        }
        return List.copyOf(certificates);
    }

    /** One DER certificate; {@code where} names it in the error. */
    public static X509Certificate certificate(byte[] der, String where) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der));
        } catch (CertificateException | RuntimeException e) {
            throw new PemException(where + ": CERTIFICATE block is not a valid X.509 certificate (" + e.getMessage() + ")");
        }
    }

    /** Exactly one PKCS#8 EC or RSA private key. */
    public static PrivateKey privateKey(String text, String source) {
        List<Block> blocks = blocks(text, source);
        if (blocks.size() != 1) {
            throw new PemException(source + ": expected exactly one '-----BEGIN PRIVATE KEY-----' (PKCS#8) block, found "
                    + blocks.size() + " PEM blocks");
        }
        Block block = blocks.getFirst();
        if (!block.label().equals("PRIVATE KEY")) {
            throw new PemException(source + ":" + block.line() + ": expected a PKCS#8 'PRIVATE KEY' block, found '"
                    + block.label() + "'" + (block.label().endsWith("PRIVATE KEY")
                    ? " (convert it with: openssl pkcs8 -topk8 -nocrypt)" : ""));
        }
        // No cause is chained and no provider message is quoted: a parse error must not carry key bytes.
        String algorithm;
        try {
            var id = PrivateKeyInfo.getInstance(block.der()).getPrivateKeyAlgorithm().getAlgorithm();
            if (id.equals(X9ObjectIdentifiers.id_ecPublicKey)) {
                algorithm = "EC";
            } else if (id.equals(PKCSObjectIdentifiers.rsaEncryption)) {
                algorithm = "RSA";
            } else {
                throw new PemException(source + ":" + block.line() + ": unsupported private key algorithm " + id
                        + " (expected EC or RSA)");
            }
        } catch (PemException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new PemException(source + ":" + block.line() + ": PRIVATE KEY block is not a valid PKCS#8 structure"
                    + " (truncated or corrupted)");
        }
        try {
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(block.der()));
        } catch (Exception e) {
            throw new PemException(source + ":" + block.line() + ": PRIVATE KEY block is not a valid " + algorithm
                    + " key (truncated or corrupted)");
        }
    }
}
