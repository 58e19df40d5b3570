package dev.septa.controlplane.auth;

import java.util.Optional;
import java.util.function.Function;

/**
 * A token admits the node it names; a certificate admits the workloads of the mesh in force whose SPIFFE ID it
 * carries (workloads sharing a service account share an identity, by SPIFFE's design). A Kubernetes service-account
 * token bound to a pod admits that pod's node only (decision 0005), and only while the node still has the token's
 * service account (a pod name re-used by a pod of another service account is not admitted) and, when both are known,
 * the pod's UID. A token bound to no pod is refused unless the operator allowed service-account scope
 * ({@code septa serve --allow-unbound-service-account-tokens}): then it admits the service account's workloads.
 */
public final class MeshNodeAuthorizer implements NodeAuthorizer {

    /** The SPIFFE ID of a node's workload in the mesh in force; empty for a node that mesh does not hold. */
    @FunctionalInterface
    public interface MeshIdentities {
        Optional<String> spiffeId(String nodeId);
    }

    private final MeshIdentities mesh;
    private final boolean unboundTokens;
    private final Function<String, Optional<String>> podUids;

    public MeshNodeAuthorizer(MeshIdentities mesh) {
        this(mesh, false, nodeId -> Optional.empty());
    }

    /** {@code podUids}: the UID of the pod behind a node id, where known (Kubernetes mode's pod watch). */
    public MeshNodeAuthorizer(MeshIdentities mesh, boolean unboundTokens, Function<String, Optional<String>> podUids) {
        this.mesh = mesh;
        this.unboundTokens = unboundTokens;
        this.podUids = podUids;
    }

    @Override
    public boolean mayActAs(Principal principal, String nodeId) {
        return switch (principal) {
            case Principal.NodeToken token -> token.nodeId().equals(nodeId);
            case Principal.Certificate cert -> mesh.spiffeId(nodeId).map(cert.spiffeId()::equals).orElse(false);
            case Principal.ServiceAccountToken sa -> serviceAccountMayActAs(sa, nodeId);
        };
    }

    private boolean serviceAccountMayActAs(Principal.ServiceAccountToken sa, String nodeId) {
        boolean sameAccount = mesh.spiffeId(nodeId)
                .map(id -> id.endsWith(new ServiceAccountTokens.ServiceAccount(sa.namespace(), sa.serviceAccount()).spiffePath()))
                .orElse(false);
        if (!sameAccount) {
            return false;
        }
        if (sa.podName() == null) {
            return unboundTokens;
        }
        if (!nodeId.equals(sa.namespace() + "/" + sa.podName())) {
            return false;
        }
        Optional<String> uid = podUids.apply(nodeId);
        return sa.podUid() == null || uid.isEmpty() || uid.get().equals(sa.podUid());
    }
}
