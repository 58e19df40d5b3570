package dev.septa.demo;

import dev.septa.controlplane.auth.NodeTokens;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@link ControlPlaneAccess} to a local control plane, read from its state directory rather than from a running core:
 * the trust bundle is {@code STATE/ca/trust-bundle.pem} and node tokens are minted with the key in {@code STATE}, so
 * tokens are refreshed and workloads started while the control plane restarts, or runs in another process
 * ({@code septa demo}, and the chaos test that SIGKILLs {@code septa serve}).
 */
public record StateDirectoryAccess(String host, int port, Path stateDir) implements ControlPlaneAccess {
    @Override
    public String trustBundlePem() {
        try {
            return Files.readString(stateDir.resolve("ca").resolve("trust-bundle.pem"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String mintToken(String nodeId) {
        try {
            return NodeTokens.open(stateDir).mint(nodeId);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
