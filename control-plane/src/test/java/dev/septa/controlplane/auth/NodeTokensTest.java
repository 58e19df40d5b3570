package dev.septa.controlplane.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeTokensTest {
    @TempDir
    Path state;

    @Test
    void mintedTokenVerifiesForItsNodeAndTheKeyPersistsOwnerOnly() throws Exception {
        NodeTokens tokens = NodeTokens.open(state);
        String token = tokens.mint("shop/payments-1");
        assertThat(token).startsWith("v1.");
        assertThat(tokens.verify(token).subject()).isEqualTo("shop/payments-1");
        // A second open (septa bootstrap, or a restart) reads the same key.
        assertThat(NodeTokens.open(state).verify(token).subject()).isEqualTo("shop/payments-1");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state.resolve("node-token.key")))).isEqualTo("rw-------");
        assertThat(tokens.toString()).doesNotContain(Files.readString(state.resolve("node-token.key")).strip());
    }

    @Test
    void expiredTokenIsRejected() throws Exception {
        Clock past = Clock.fixed(Instant.now().minus(Duration.ofHours(1)), ZoneOffset.UTC);
        String old = NodeTokens.open(state, past).mint("shop/a");
        assertThatThrownBy(() -> NodeTokens.open(state).verify(old))
                .isInstanceOf(NodeTokens.InvalidTokenException.class).hasMessageContaining("expired");
    }

    @Test
    void tokenFromAnotherKeyOrWithAlteredClaimsIsRejected(@TempDir Path other) throws Exception {
        NodeTokens tokens = NodeTokens.open(state);
        String foreign = NodeTokens.open(other).mint("shop/a");
        assertThatThrownBy(() -> tokens.verify(foreign)).hasMessageContaining("signature");

        String genuine = tokens.mint("shop/a");
        String[] parts = genuine.split("\\.");
        String claims = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8).replace("shop/a", "shop/b");
        String altered = parts[0] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(claims.getBytes(StandardCharsets.UTF_8)) + "." + parts[2];
        assertThatThrownBy(() -> tokens.verify(altered)).hasMessageContaining("signature");
        assertThatThrownBy(() -> tokens.verify("Bearer nonsense")).hasMessageContaining("malformed");
    }
}
