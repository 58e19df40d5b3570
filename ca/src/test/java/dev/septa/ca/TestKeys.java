package dev.septa.ca;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.Base64;

/** Pre-generated keys under src/test/resources/keys (made with openssl genpkey), so tests skip key generation. */
final class TestKeys {

    private TestKeys() {
    }

    static Path path(String name) {
        try {
            return Path.of(TestKeys.class.getResource("/keys/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing test key " + name, e);
        }
    }

    static String pem(String name) {
        try {
            return Files.readString(path(name));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Loads keys the JDK understands (EC P-256/P-384, RSA, Ed25519) with their public halves. */
    static KeyPair pair(String name) {
        String body = pem(name).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        byte[] der = Base64.getDecoder().decode(body);
        String algorithm = name.contains("rsa") ? "RSA" : name.contains("ed25519") ? "Ed25519" : "EC";
        try {
            KeyFactory factory = KeyFactory.getInstance(algorithm);
            PrivateKey key = factory.generatePrivate(new PKCS8EncodedKeySpec(der));
            return new KeyPair(publicKey(key, factory, name), key);
        } catch (Exception e) {
            throw new IllegalStateException("cannot load test key " + name, e);
        }
    }

    private static PublicKey publicKey(PrivateKey key, KeyFactory factory, String name) throws Exception {
        if (key instanceof RSAPrivateCrtKey rsa) {
            return factory.generatePublic(new RSAPublicKeySpec(rsa.getModulus(), rsa.getPublicExponent()));
        }
        // EC and EdDSA: let openssl print the SubjectPublicKeyInfo.
        Process p = new ProcessBuilder("openssl", "pkey", "-in", path(name).toString(), "-pubout", "-outform", "DER")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] spki = p.getInputStream().readAllBytes();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("openssl pkey failed for " + name);
        }
        return factory.generatePublic(new java.security.spec.X509EncodedKeySpec(spki));
    }
}
