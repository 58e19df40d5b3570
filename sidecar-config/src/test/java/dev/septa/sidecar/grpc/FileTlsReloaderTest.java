package dev.septa.sidecar.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.sidecar.testing.TestPki;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The xDS channel's credentials follow the agent's files when it swaps its {@code ..data} symlink (rotation). */
class FileTlsReloaderTest {

    @Test
    void aSymlinkSwapReplacesTheCertificateKeyAndRoots(@TempDir Path dir) throws Exception {
        var oldPki = new TestPki("old");
        var newPki = new TestPki("new");
        TestPki.Leaf first = oldPki.issue("spiffe://cluster.local/ns/shop/sa/web");
        TestPki.Leaf second = newPki.issue("spiffe://cluster.local/ns/shop/sa/web");
        oldPki.writeFiles(first, dir.resolve("..v1"));
        newPki.writeFiles(second, dir.resolve("..v2"));
        Files.createSymbolicLink(dir.resolve("..data"), Path.of("..v1"));
        for (String f : new String[] {"cert.pem", "key.pem", "ca.pem"}) {
            Files.createSymbolicLink(dir.resolve(f), Path.of("..data", f));
        }
        var trust = AdvancedTlsX509TrustManager.newBuilder()
                .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION).build();
        var keys = new AdvancedTlsX509KeyManager();
        var reloader = new FileTlsXdsCredentialsProvider.Reloader(dir.resolve("ca.pem"), dir.resolve("cert.pem"),
                dir.resolve("key.pem"), trust, keys);
        reloader.reload(true);
        assertThat(presented(keys)).isEqualTo(first.cert());
        assertThat(trust.getAcceptedIssuers()).containsExactly(oldPki.root());

        Path tmp = dir.resolve("..data.tmp");
        Files.createSymbolicLink(tmp, Path.of("..v2"));
        Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        reloader.reload(false);

        assertThat(presented(keys)).isEqualTo(second.cert());
        assertThat(keys.getPrivateKey(keys.chooseClientAlias(new String[] {"EC"}, null, null))).isEqualTo(second.key());
        assertThat(trust.getAcceptedIssuers()).containsExactly(newPki.root());
    }

    private static X509Certificate presented(AdvancedTlsX509KeyManager keys) {
        return keys.getCertificateChain(keys.chooseClientAlias(new String[] {"EC"}, null, null))[0];
    }
}
