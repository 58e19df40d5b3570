package dev.septa.controlplane.identity;

import dev.septa.controlplane.publish.MeshState;

/**
 * A token admits the node it names; a certificate admits the workloads of the mesh in force whose SPIFFE ID it
 * carries (workloads sharing a service account share an identity, by SPIFFE's design).
 */
public final class MeshNodeAuthorizer implements NodeAuthorizer {
    private final MeshState mesh;

    public MeshNodeAuthorizer(MeshState mesh) {
        this.mesh = mesh;
    }

    @Override
    public boolean mayActAs(Principal principal, String nodeId) {
        return switch (principal) {
            case Principal.NodeToken token -> token.nodeId().equals(nodeId);
            case Principal.Certificate cert -> mesh.spiffeId(nodeId).map(cert.spiffeId()::equals).orElse(false);
        };
    }
}
