package dev.septa.manifests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * manifests/rbac.yaml grants the control plane exactly what its code uses, by name wherever Kubernetes can limit a
 * verb to names (everything but create): any grant outside the list below, a wildcard, or a named grant without its
 * names fails. Each entry names the code that needs it.
 */
class RbacLeastPrivilegeTest {
    /** One grant: a verb on a resource, limited to {@code names} when not null. */
    record Grant(String kind, String group, String resource, String verb, Set<String> names) {}

    static final Set<String> BUNDLE_CONFIG_MAPS = Set.of("septa-trust-bundle", "septa-ca-rotation"); // TrustBundlePublisher, SecretRotationStores.STAGE
    static final Set<String> CA_SECRETS = Set.of("septa-ca", "septa-ca-next", "septa-ca-incoming"); // SecretRotationStores
    static final Set<String> WEBHOOK = Set.of("septa-injector"); // WebhookCaBundlePublisher
    static final Set<String> LEASE = Set.of("septa-leader"); // LeaderElection.LEASE

    static final List<Grant> ALLOWED = allowed();

    static List<Grant> allowed() {
        List<Grant> g = new ArrayList<>();
        for (String verb : List.of("get", "list", "watch")) { // KubernetesMeshSource's informers
            for (String r : List.of("segments", "intents", "meshconfigs", "quarantines")) {
                g.add(new Grant("ClusterRole", "septa.dev", r, verb, null));
            }
            for (String r : List.of("pods", "services", "namespaces")) {
                g.add(new Grant("ClusterRole", "", r, verb, null));
            }
        }
        for (String verb : List.of("get", "patch")) {
            g.add(new Grant("ClusterRole", "", "configmaps", verb, BUNDLE_CONFIG_MAPS));
            g.add(new Grant("ClusterRole", "admissionregistration.k8s.io", "mutatingwebhookconfigurations", verb, WEBHOOK));
        }
        g.add(new Grant("ClusterRole", "", "configmaps", "create", null)); // create cannot be limited to a name
        g.add(new Grant("ClusterRole", "authentication.k8s.io", "tokenreviews", "create", null));
        for (String verb : List.of("get", "patch", "delete")) { // SecretCaKeyStore: get, createOr(patch), delete
            g.add(new Grant("Role", "", "secrets", verb, CA_SECRETS));
        }
        g.add(new Grant("Role", "", "secrets", "create", null));
        for (String r : List.of("segments/status", "intents/status", "meshconfigs/status", "quarantines/status")) { // CustomResourceStatusPublisher: updateStatus
            g.add(new Grant("ClusterRole", "septa.dev", r, "update", null));
        }
        for (String verb : List.of("get", "patch")) { // LeaderElection: fabric8's LeaseLock reads and renews by PATCH
            g.add(new Grant("Role", "coordination.k8s.io", "leases", verb, LEASE));
        }
        g.add(new Grant("Role", "coordination.k8s.io", "leases", "create", null));
        return g;
    }

    /** Every grant the manifests make, one per group, resource and verb of each rule. */
    static List<Grant> granted() {
        List<Grant> grants = new ArrayList<>();
        for (JsonNode doc : Manifests.yaml(Manifests.DIR.resolve("rbac.yaml"))) {
            String kind = doc.path("kind").asText();
            if (!kind.equals("ClusterRole") && !kind.equals("Role")) {
                continue;
            }
            if (kind.equals("Role")) {
                assertThat(doc.at("/metadata/namespace").asText()).as("the Role's namespace").isEqualTo("septa-system");
            }
            for (JsonNode rule : doc.path("rules")) {
                assertThat(rule.has("nonResourceURLs")).as("nonResourceURLs in %s", rule).isFalse();
                Set<String> names = rule.has("resourceNames") ? strings(rule.path("resourceNames")) : null;
                for (String group : strings(rule.path("apiGroups"))) {
                    for (String resource : strings(rule.path("resources"))) {
                        for (String verb : strings(rule.path("verbs"))) {
                            grants.add(new Grant(kind, group, resource, verb, names));
                        }
                    }
                }
            }
        }
        return grants;
    }

    @Test
    void everyGrantIsOneTheCodeUsesAndNoWider() {
        List<Grant> granted = granted();
        assertThat(granted).isNotEmpty().allSatisfy(g -> {
            assertThat(List.of(g.group(), g.resource(), g.verb())).as("wildcard in %s", g).doesNotContain("*");
            assertThat(ALLOWED).as("%s is not a grant the control plane needs", g).anySatisfy(a -> {
                assertThat(List.of(a.kind(), a.group(), a.resource(), a.verb()))
                        .isEqualTo(List.of(g.kind(), g.group(), g.resource(), g.verb()));
                if (a.names() != null) {
                    assertThat(g.names()).as("%s must be limited to %s", g, a.names()).isNotNull().isNotEmpty()
                            .isSubsetOf(a.names());
                }
            });
        });
    }

    @Test
    void everyGrantTheCodeUsesIsThere() {
        List<Grant> granted = granted();
        assertThat(ALLOWED).allSatisfy(a -> assertThat(granted).as("missing: %s", a).anySatisfy(g -> {
            assertThat(List.of(g.kind(), g.group(), g.resource(), g.verb()))
                    .isEqualTo(List.of(a.kind(), a.group(), a.resource(), a.verb()));
            if (a.names() != null) {
                assertThat(g.names()).containsExactlyInAnyOrderElementsOf(a.names());
            }
        }));
    }

    private static Set<String> strings(JsonNode array) {
        Set<String> out = new TreeSet<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
