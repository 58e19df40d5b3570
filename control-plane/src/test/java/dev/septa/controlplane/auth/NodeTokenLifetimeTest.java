package dev.septa.controlplane.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Node tokens live more than 0 and at most 24 h: refused at mint, and a longer one signed with the key is refused at verification. */
class NodeTokenLifetimeTest {
    private static final Base64.Decoder KEY_DECODER = Base64.getUrlDecoder();

    @TempDir
    Path state;

    @Test
    void mintRefusesZeroNegativeAndOverlongLifetimes() throws Exception {
        NodeTokens tokens = NodeTokens.open(state);
        for (Duration bad : new Duration[] {Duration.ZERO, Duration.ofSeconds(-5), Duration.ofHours(24).plusSeconds(1), Duration.ofDays(3650)}) {
            assertThatThrownBy(() -> tokens.mint("shop/a", bad)).as(bad.toString())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at most 24h");
        }
        assertThat(tokens.verify(tokens.mint("shop/a", NodeTokens.MAX_LIFETIME)).subject()).isEqualTo("shop/a");
    }

    @Test
    void aTokenSignedForLongerThanTheCapIsRefusedAtVerification() throws Exception {
        NodeTokens tokens = NodeTokens.open(state);
        long now = Instant.now().getEpochSecond();
        String longLived = sign("{\"sub\":\"shop/a\",\"iat\":" + now + ",\"exp\":" + (now + Duration.ofDays(365).toSeconds()) + "}");
        assertThatThrownBy(() -> tokens.verify(longLived)).isInstanceOf(NodeTokens.InvalidTokenException.class)
                .hasMessage("token lifetime exceeds 24h");
        String dayLong = sign("{\"sub\":\"shop/a\",\"iat\":" + now + ",\"exp\":" + (now + Duration.ofHours(24).toSeconds()) + "}");
        assertThat(tokens.verify(dayLong).subject()).isEqualTo("shop/a");
    }

    @Test
    void hugeNumbersInSignedClaimsAreRefusedNotThrown() throws Exception {
        NodeTokens tokens = NodeTokens.open(state);
        for (String claims : new String[] {"{\"sub\":\"shop/a\",\"iat\":1,\"exp\":99999999999999999999}",
                "{\"sub\":\"shop/a\",\"iat\":1,\"exp\":999999999999999999}"}) {
            String token = sign(claims);
            assertThatThrownBy(() -> tokens.verify(token)).as(claims).isInstanceOf(NodeTokens.InvalidTokenException.class)
                    .hasMessage("malformed token claims");
        }
    }

    /** What a holder of {@code node-token.key} could sign: claims of its choosing. */
    private String sign(String claims) throws Exception {
        byte[] key = KEY_DECODER.decode(Files.readString(state.resolve("node-token.key")).strip());
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        var b64 = Base64.getUrlEncoder().withoutPadding();
        String signed = "v1." + b64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
        return signed + "." + b64.encodeToString(mac.doFinal(signed.getBytes(StandardCharsets.US_ASCII)));
    }
}
