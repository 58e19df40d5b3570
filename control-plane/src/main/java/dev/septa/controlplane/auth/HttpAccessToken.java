package dev.septa.controlplane.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;

/**
 * The bearer token of the control plane's HTTP API: {@code STATE/http-token}, 256 random bits, owner-only (refused
 * when group or others may read it), made on first start. Needed for every state-changing request and for reads
 * from anywhere but this machine's loopback ({@code HttpAccessFilter}). Compared in constant time; never printed.
 */
public final class HttpAccessToken {
    public static final String FILE = "http-token";

    private final byte[] token;
    private final Path file;

    private HttpAccessToken(byte[] token, Path file) {
        this.token = token;
        this.file = file;
    }

    public static HttpAccessToken open(Path stateDir) throws IOException {
        Path file = stateDir.resolve(FILE);
        byte[] secret = SecretFile.readOrCreate(file, 32);
        return new HttpAccessToken(Base64.getUrlEncoder().withoutPadding().encodeToString(secret).getBytes(StandardCharsets.US_ASCII), file);
    }

    /** Where the token is kept (not secret: the file is owner-only), for a refused local client to be told. */
    public Path file() {
        return file;
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
