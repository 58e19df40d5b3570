package dev.septa.demo;

/**
 * What the demo fleet needs from a running control plane: where its xDS/SDS server listens, the trust bundle that
 * verifies it, and a node token for a workload (decision 0002).
 */
public interface ControlPlaneAccess {
    String host();

    int port();

    String trustBundlePem();

    String mintToken(String nodeId);
}
