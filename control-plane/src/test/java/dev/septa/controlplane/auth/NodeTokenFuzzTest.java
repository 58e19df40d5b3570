package dev.septa.controlplane.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.septa.policy.parse.FuzzBounds;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Fuzzes the node-token parser. The first byte chooses what the rest is: (even) a token as a client presents it, or
 * (odd) claims that the fuzzer has signed with the key, as a holder of {@code node-token.key} or a minting bug could,
 * so the claims parser is reached past the signature. Either is verified into claims no longer than 24 h, or refused
 * with an {@link NodeTokens.InvalidTokenException}; never another exception. The key and the clock are fixed, so the
 * seeds' valid tokens stay valid.
 */
class NodeTokenFuzzTest {
    private static final byte[] KEY = "fuzzing-key-fuzzing-key-fuzzing-key!".getBytes(StandardCharsets.US_ASCII);
    private static final NodeTokens TOKENS = new NodeTokens(KEY, Clock.fixed(Instant.ofEpochSecond(1_800_000_000L), ZoneOffset.UTC));

    static {
        try {
            TOKENS.verify(sign("{\"sub\":\"shop/a\",\"iat\":1799999000,\"exp\":1800000600}".getBytes(StandardCharsets.UTF_8))); // warm-up
        } catch (NodeTokens.InvalidTokenException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void verify(byte[] input) {
        if (input.length == 0) {
            return;
        }
        String rest = new String(input, 1, input.length - 1, StandardCharsets.UTF_8);
        String token = (input[0] & 1) == 0 ? rest : sign(Arrays.copyOfRange(input, 1, input.length));
        FuzzBounds.within(() -> {
            try {
                NodeTokens.Claims claims = TOKENS.verify(token);
                assertThat(claims.subject()).isNotBlank();
                assertThat(Duration.between(claims.issuedAt(), claims.expiresAt())).isLessThanOrEqualTo(NodeTokens.MAX_LIFETIME);
            } catch (NodeTokens.InvalidTokenException refused) {
                assertThat(refused.getMessage()).isNotBlank();
            }
            return null;
        });
    }

    static String sign(byte[] claims) {
        try {
            var b64 = Base64.getUrlEncoder().withoutPadding();
            String signed = NodeTokens.PREFIX + b64.encodeToString(claims);
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(KEY, "HmacSHA256"));
            return signed + "." + b64.encodeToString(mac.doFinal(signed.getBytes(StandardCharsets.US_ASCII)));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
