package dev.septa.controlplane.xds;

/**
 * Makes a node's SDS secrets ({@code default} and {@code ROOTCA}) and hands them to
 * {@link ProxyConfigCache#publishSecrets}. Called outside the cache's lock; may work asynchronously.
 */
@FunctionalInterface
public interface SecretSource {
    void requestSecrets(String nodeId);
}
