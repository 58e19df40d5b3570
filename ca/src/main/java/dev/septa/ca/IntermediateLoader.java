package dev.septa.ca;

import dev.septa.identity.PemReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads an operator-supplied intermediate CA (certificate, PKCS#8 key, optional chain of further intermediates,
 * and the root to trust) and checks it before anything is signed with it: key matches, CA:true, chains to the
 * given root, valid now, and enough lifetime left for the configured workload TTL. Each failure has its own
 * message naming the file.
 */
public final class IntermediateLoader {

    private IntermediateLoader() {
    }

    /**
     * @param chainFile intermediates above {@code certFile}, issuer order; may be {@code null}. A copy of the root
     *                  at its end is tolerated and dropped.
     */
    public static CaMaterial load(Path certFile, Path keyFile, Path chainFile, Path rootFile, CaConfig config, Clock clock) {
        List<X509Certificate> certs = PemReader.certificates(read(certFile), certFile.toString());
        PrivateKey key = PemReader.privateKey(read(keyFile), keyFile.toString());
        List<X509Certificate> roots = PemReader.certificates(read(rootFile), rootFile.toString());
        List<X509Certificate> intermediates = new ArrayList<>(certs.subList(1, certs.size()));
        if (chainFile != null) {
            intermediates.addAll(PemReader.certificates(read(chainFile), chainFile.toString()));
        }
        intermediates.removeIf(roots::contains);
        CaMaterial material;
        try {
            material = new CaMaterial(key, certs.getFirst(), intermediates, new TrustBundle(config.trustDomain(), roots));
        } catch (IllegalArgumentException e) {
            throw new InvalidSigningCaException(rootFile + ": " + e.getMessage());
        }
        if (material.signerIsRoot()) {
            throw new InvalidSigningCaException("the certificate in " + certFile + " is the root itself; supply an"
                    + " intermediate signed by it (or let Septa generate its own root)");
        }
        SigningCaValidator.validate(material, config, clock, new SigningCaValidator.Sources(
                certFile.toString(), keyFile.toString(), rootFile.toString()));
        return material;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, java.nio.charset.StandardCharsets.US_ASCII);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new InvalidSigningCaException(file + ": no such file");
        } catch (IOException e) {
            throw new InvalidSigningCaException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }
}
