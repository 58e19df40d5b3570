package dev.septa.controlplane.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Mints and verifies node tokens (decision 0002): {@code v1.<base64url(JSON {"sub","iat","exp"})>.<base64url(HMAC-SHA256)>}.
 * The HMAC key is {@code node-token.key} in the state directory, created owner-only on first use. Public API for
 * {@code septa bootstrap}: {@code NodeTokens.open(stateDir).mint("ns/name")}. Thread-safe.
 */
public final class NodeTokens {
    public static final Duration DEFAULT_LIFETIME = Duration.ofMinutes(10);
    /**
     * The longest lifetime minted and accepted: a token is a bearer credential for one node until it expires, and the
     * agent trades it for an SVID within seconds, so a longer one only widens the window for a stolen copy.
     */
    public static final Duration MAX_LIFETIME = Duration.ofHours(24);
    /** Every node token starts with it (a Kubernetes JWT never does: it starts with its base64 header). */
    public static final String PREFIX = "v1.";
    private static final String KEY_FILE = "node-token.key";
    /**
     * A node id ({@code ns/name}) is printable ASCII without spaces, quotes or backslashes: a subject with a line
     * break or a control character (found by NodeTokenFuzzTest in signed claims) would be a log-injection vector.
     */
    private static final String NODE_ID_CHARS = "[\\x21\\x23-\\x5b\\x5d-\\x7e]";
    private static final Pattern NODE_ID = Pattern.compile(NODE_ID_CHARS + "+");
    private static final Pattern CLAIMS = Pattern.compile(
            "^\\{\"sub\":\"(" + NODE_ID_CHARS + "+)\",\"iat\":(\\d{1,16}),\"exp\":(\\d{1,16})}$");
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getUrlDecoder();

    private final byte[] key;
    private final Clock clock;

    NodeTokens(byte[] key, Clock clock) {
        if (key.length < 32) {
            throw new IllegalArgumentException("node token key must be at least 256 bits");
        }
        this.key = key.clone();
        this.clock = clock;
    }

    /** Opens the key in {@code stateDir/node-token.key}, creating the directory and a random key when absent. */
    public static NodeTokens open(Path stateDir) throws IOException {
        return open(stateDir, Clock.systemUTC());
    }

    public static NodeTokens open(Path stateDir, Clock clock) throws IOException {
        byte[] key = SecretFile.readOrCreate(stateDir.resolve(KEY_FILE), 32);
        return new NodeTokens(key, clock);
    }

    /** A token for {@code nodeId} ({@code ns/name}) valid for {@link #DEFAULT_LIFETIME}. */
    public String mint(String nodeId) {
        return mint(nodeId, DEFAULT_LIFETIME);
    }

    public String mint(String nodeId, Duration lifetime) {
        if (lifetime.isNegative() || lifetime.isZero() || lifetime.compareTo(MAX_LIFETIME) > 0) {
            throw new IllegalArgumentException("token lifetime must be more than 0 and at most " + MAX_LIFETIME.toHours()
                    + "h, got " + lifetime);
        }
        if (nodeId == null || !NODE_ID.matcher(nodeId).matches()) {
            throw new IllegalArgumentException("invalid node id: " + nodeId);
        }
        long iat = clock.instant().getEpochSecond();
        long exp = iat + Math.max(1, lifetime.toSeconds());
        String claims = "{\"sub\":\"" + nodeId + "\",\"iat\":" + iat + ",\"exp\":" + exp + "}";
        String signed = PREFIX + B64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
        return signed + "." + B64.encodeToString(hmac(signed));
    }

    /** The verified claims, or an exception saying why the token is not acceptable (never echoing the token). */
    public Claims verify(String token) throws InvalidTokenException {
        if (token == null) {
            throw new InvalidTokenException("no token");
        }
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3 || !parts[0].equals("v1")) {
            throw new InvalidTokenException("malformed token (expected v1.<claims>.<signature>)");
        }
        byte[] expected = hmac(parts[0] + "." + parts[1]);
        byte[] actual;
        try {
            actual = B64D.decode(parts[2]);
        } catch (IllegalArgumentException e) {
            throw new InvalidTokenException("malformed token signature");
        }
        if (!MessageDigest.isEqual(expected, actual)) {
            throw new InvalidTokenException("token signature does not verify");
        }
        String json;
        try {
            json = new String(B64D.decode(parts[1]), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new InvalidTokenException("malformed token claims");
        }
        Matcher m = CLAIMS.matcher(json);
        if (!m.matches()) {
            throw new InvalidTokenException("malformed token claims");
        }
        // At most 16 digits each (the pattern): both fit in a long and in an Instant.
        Instant iat = Instant.ofEpochSecond(Long.parseLong(m.group(2)));
        Instant exp = Instant.ofEpochSecond(Long.parseLong(m.group(3)));
        if (Duration.between(iat, exp).compareTo(MAX_LIFETIME) > 0) {
            throw new InvalidTokenException("token lifetime exceeds " + MAX_LIFETIME.toHours() + "h");
        }
        if (!clock.instant().isBefore(exp)) {
            throw new InvalidTokenException("token expired at " + exp);
        }
        return new Claims(m.group(1), iat, exp);
    }

    private byte[] hmac(String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.US_ASCII));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    @Override
    public String toString() {
        return "NodeTokens[key=<redacted>]";
    }

    /** A verified token: the one node id it admits, and its lifetime. */
    public record Claims(String subject, Instant issuedAt, Instant expiresAt) {}

    /** The token is missing, malformed, forged or expired. */
    public static final class InvalidTokenException extends Exception {
        public InvalidTokenException(String message) {
            super(message);
        }
    }
}
