package dev.septa.controlplane.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;

/**
 * The bearer token of the control plane's HTTP API (status, rotation, graph, metrics) for clients that are not on
 * this machine: {@code STATE/http-token}, 256 random bits, owner-only, made on first start. Local (loopback) clients
 * need none. Compared in constant time; never printed.
 */
public final class HttpAccessToken {
    public static final String FILE = "http-token";

    private final byte[] token;

    private HttpAccessToken(byte[] token) {
        this.token = token;
    }

    public static HttpAccessToken open(Path stateDir) throws IOException {
        byte[] secret = SecretFile.readOrCreate(stateDir.resolve(FILE), 32);
        return new HttpAccessToken(Base64.getUrlEncoder().withoutPadding().encodeToString(secret).getBytes(StandardCharsets.US_ASCII));
    }

    /** Whether {@code presented} is the token (null or empty never is). */
    public boolean matches(String presented) {
        return presented != null && !presented.isEmpty()
                && MessageDigest.isEqual(token, presented.strip().getBytes(StandardCharsets.US_ASCII));
    }

    /** The token itself, for the cookie that keeps a browser signed in. */
    public String value() {
        return new String(token, StandardCharsets.US_ASCII);
    }

    @Override
    public String toString() {
        return "HttpAccessToken[<redacted>]";
    }
}
