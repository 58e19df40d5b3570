package dev.septa.sidecar.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateEncodingException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The roots that may verify the control plane, for the agent's SDS stream and the relay's upstream alike: the last
 * bundle the agent wrote ({@code ca.pem}, kept even when the SVID beside it expired) and the bootstrap's bundle,
 * whichever verifies. Trusting one of them alone locked agents out: after a root rotation the bootstrap's bundle holds
 * only a retired root, and before the first SDS answer there is no {@code ca.pem}.
 */
public final class ControlPlaneTrust {
    private ControlPlaneTrust() { }

    /** PEM of every distinct root in {@code caFile} (when readable) and {@code bootstrapBundlePem} (when not null). */
    public static String anchors(Path caFile, String bootstrapBundlePem) {
        Map<String, String> roots = new LinkedHashMap<>();
        try {
            addRoots(roots, Files.readString(caFile));
        } catch (IOException | RuntimeException e) {
            // no bundle written yet, or unreadable: the bootstrap's alone
        }
        if (bootstrapBundlePem != null) {
            addRoots(roots, bootstrapBundlePem);
        }
        if (roots.isEmpty()) {
            throw new IllegalStateException("no trust bundle to verify the control plane with");
        }
        return String.join("", roots.values());
    }

    /** Adds each certificate of {@code pem}, keyed by its DER so a root in both bundles counts once. */
    private static void addRoots(Map<String, String> roots, String pem) {
        var encoder = Base64.getMimeEncoder(64, new byte[] {'\n'});
        for (var root : CertificateBundle.parseCertificates(pem, "trust bundle")) {
            try {
                String body = encoder.encodeToString(root.getEncoded());
                roots.putIfAbsent(body, "-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----\n");
            } catch (CertificateEncodingException e) {
                // a root that cannot be encoded again is left out; the others still count
            }
        }
    }
}
