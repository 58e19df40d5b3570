package dev.septa.controlplane.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The state directory holds the CA key, the node-token key and the HTTP token: it is made owner-only, and a secret
 * file that group or others can read is refused when loaded (as the CA key is), with the command that fixes it.
 */
class StateDirectoryPermissionsTest {
    @TempDir
    Path dir;

    @Test
    void theStateDirectoryIsCreatedOwnerOnly() throws IOException {
        Path state = dir.resolve("a").resolve("state");
        NodeTokens.open(state);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state.resolve("node-token.key"))))
                .isEqualTo("rw-------");
        HttpAccessToken.open(state);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(state.resolve(HttpAccessToken.FILE))))
                .isEqualTo("rw-------");
    }

    @Test
    void aNodeTokenKeyOthersCanReadIsRefused() throws IOException {
        Path state = dir.resolve("state");
        NodeTokens.open(state);
        Path key = state.resolve("node-token.key");
        for (String mode : new String[] {"rw-r--r--", "rw-rw----", "rw-----w-"}) {
            Files.setPosixFilePermissions(key, PosixFilePermissions.fromString(mode));
            assertThatThrownBy(() -> NodeTokens.open(state)).as(mode).isInstanceOf(IOException.class)
                    .hasMessageContaining(key.toString()).hasMessageContaining("chmod 600");
        }
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        assertThat(NodeTokens.open(state)).isNotNull();
    }

    @Test
    void anHttpTokenOthersCanReadIsRefused() throws IOException {
        Path state = dir.resolve("state");
        HttpAccessToken.open(state);
        Path token = state.resolve(HttpAccessToken.FILE);
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-r-----"));
        assertThatThrownBy(() -> HttpAccessToken.open(state)).isInstanceOf(IOException.class)
                .hasMessageContaining("owner-only").hasMessageContaining("chmod 600 " + token);
    }
}
