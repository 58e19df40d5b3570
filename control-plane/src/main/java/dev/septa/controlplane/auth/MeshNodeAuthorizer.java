package dev.septa.controlplane.auth;

import java.util.Optional;

/**
 * A token admits the node it names; a certificate admits the workloads of the mesh in force whose SPIFFE ID it
 * carries (workloads sharing a service account share an identity, by SPIFFE's design); a Kubernetes service-account
 * token admits the workloads of that service account (the same set: the SPIFFE ID is {@code /ns/NS/sa/SA}).
 */
public final class MeshNodeAuthorizer implements NodeAuthorizer {

    /** The SPIFFE ID of a node's workload in the mesh in force; empty for a node that mesh does not hold. */
    @FunctionalInterface
    public interface MeshIdentities {
        Optional<String> spiffeId(String nodeId);
    }

    private final MeshIdentities mesh;

    public MeshNodeAuthorizer(MeshIdentities mesh) {
        this.mesh = mesh;
    }

    @Override
    public boolean mayActAs(Principal principal, String nodeId) {
        return switch (principal) {
            case Principal.NodeToken token -> token.nodeId().equals(nodeId);
            case Principal.Certificate cert -> mesh.spiffeId(nodeId).map(cert.spiffeId()::equals).orElse(false);
            case Principal.ServiceAccountToken sa -> mesh.spiffeId(nodeId)
                    .map(id -> id.endsWith(new ServiceAccountTokens.ServiceAccount(sa.namespace(), sa.serviceAccount()).spiffePath()))
                    .orElse(false);
        };
    }
}
