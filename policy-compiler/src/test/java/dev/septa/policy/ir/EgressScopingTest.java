package dev.septa.policy.ir;

import static org.assertj.core.api.Assertions.assertThat;

import dev.septa.policy.check.Checker;
import dev.septa.policy.check.Decision;
import dev.septa.policy.check.Query;
import dev.septa.policy.compile.CompiledMesh;
import dev.septa.policy.compile.CompiledMeshFiles;
import dev.septa.policy.compile.Dialect;
import dev.septa.policy.compile.PolicyCompiler;
import dev.septa.policy.compile.TestInputs;
import dev.septa.policy.emit.ProxyResources;
import dev.septa.policy.model.DefaultAction;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.MeshConfig;
import dev.septa.policy.model.Segment;
import dev.septa.policy.model.Workload;
import dev.septa.policy.model.WorkloadPort;
import dev.septa.policy.parse.MeshParser;
import dev.septa.policy.parse.ParseResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Segment {@code spec.egress} (decision 0008) on the golden case {@code egress-scoping}: under
 * {@code defaultAction: Allow} it narrows what each proxy is routed to, never below its Allow intents' targets;
 * it changes no decision, and under {@code defaultAction: Deny} nothing at all.
 */
class EgressScopingTest {
    private static final List<String> EVERY_SERVICE = List.of("outbound|8080||admin.web", "outbound|8080||front.web",
            "outbound|8443||cart.shop", "outbound|8443||payments.shop", "outbound|9090||metrics.ops");

    private static Mesh scoped() {
        ParseResult parsed = MeshParser.parse(TestInputs.load(
                TestInputs.inputDir(Path.of("src/test/resources/golden/egress-scoping"))));
        assertThat(parsed.hasErrors()).as("%s", parsed.diagnostics()).isFalse();
        return parsed.mesh();
    }

    /** The same mesh with every Segment's {@code egress} removed. */
    private static Mesh unscoped(Mesh mesh) {
        List<Segment> segments = mesh.segments().stream()
                .map(s -> new Segment(s.metadata(), s.selector(), null, s.source())).toList();
        return new Mesh(mesh.config(), segments, mesh.intents(), mesh.workloads(), mesh.services(), mesh.quarantines());
    }

    private static Mesh withDefault(Mesh mesh, DefaultAction action) {
        MeshConfig c = mesh.config();
        MeshConfig config = new MeshConfig(c.trustDomain(), action, c.mtls(), c.certificateTTL(), c.detection());
        return new Mesh(config, mesh.segments(), mesh.intents(), mesh.workloads(), mesh.services(), mesh.quarantines());
    }

    private static Map<String, List<String>> reach(Mesh mesh) {
        return PolicyCompiler.plan(mesh).workloads().stream().collect(Collectors.toMap(w -> w.workload().id(),
                w -> w.reachable().stream().map(ServicePort::clusterName).toList()));
    }

    private static CompiledMesh compile(Mesh mesh) {
        return PolicyCompiler.compile(mesh).mesh().orElseThrow();
    }

    @Test
    void aScopedWorkloadIsRoutedToItsEgressAndItsAllowIntentsTargetsOnly() {
        Map<String, List<String>> reach = reach(scoped());
        // egress: [namespace web, service ops/metrics]; payments by the Allow intent although shop is outside its egress
        assertThat(reach.get("web/front-1")).containsExactly("outbound|8080||admin.web", "outbound|8080||front.web",
                "outbound|8443||payments.shop", "outbound|9090||metrics.ops");
        // egress: [] leaves exactly what its Allow intent lets it call
        assertThat(reach.get("shop/cart-1")).containsExactly("outbound|8443||payments.shop");
        // egress: [segment web/front]: the Services that select the segment's members
        assertThat(reach.get("shop/payments-1")).containsExactly("outbound|8080||front.web");
        // Segments without egress: every service, as before
        assertThat(reach.get("web/admin-1")).isEqualTo(EVERY_SERVICE);
        assertThat(reach.get("ops/metrics-1")).isEqualTo(EVERY_SERVICE);
    }

    @Test
    void withoutEgressEveryWorkloadIsRoutedToEveryService() {
        assertThat(reach(unscoped(scoped())).values()).hasSize(5).allSatisfy(r -> assertThat(r).isEqualTo(EVERY_SERVICE));
    }

    @Test
    void scopedProxiesHoldASubsetOfTheUnscopedResourcesAndFewerBytes() {
        CompiledMesh scoped = compile(scoped());
        CompiledMesh unscoped = compile(unscoped(scoped()));
        for (String id : List.of("web/front-1", "shop/cart-1", "shop/payments-1")) {
            for (Dialect d : Dialect.values()) {
                ProxyResources s = scoped.proxies().get(id).resources(d);
                ProxyResources u = unscoped.proxies().get(id).resources(d);
                assertThat(u.clusters()).as("%s %s", id, d).containsAll(s.clusters());
                assertThat(u.endpoints()).as("%s %s", id, d).containsAll(s.endpoints());
                assertThat(bytes(s)).as("%s %s", id, d).isLessThan(bytes(u));
            }
        }
        // Inbound (RBAC) is untouched: the same listeners for a workload whose egress is not scoped.
        assertThat(scoped.proxies().get("web/admin-1")).isEqualTo(unscoped.proxies().get("web/admin-1"));
    }

    @Test
    void underDefaultDenyEgressChangesNothing() {
        Mesh deny = withDefault(scoped(), DefaultAction.DENY);
        assertThat(CompiledMeshFiles.files(compile(deny))).isEqualTo(CompiledMeshFiles.files(compile(unscoped(deny))));
        assertThat(reach(deny).get("shop/payments-1")).isEmpty(); // its egress segment adds nothing under Deny
    }

    @Test
    void noDecisionChangesInEitherDialectOrDefault() {
        for (DefaultAction action : DefaultAction.values()) {
            Mesh scoped = withDefault(scoped(), action);
            CompiledMesh withEgress = compile(scoped);
            CompiledMesh without = compile(unscoped(scoped));
            List<Query> queries = queries(scoped);
            for (Dialect d : Dialect.values()) {
                Checker a = new Checker(withEgress, d);
                Checker b = new Checker(without, d);
                List<Decision> da = queries.stream().map(a::check).toList();
                assertThat(da).as("%s %s", action, d).isEqualTo(queries.stream().map(b::check).toList());
                assertThat(da).as("the mesh allows some calls and denies others")
                        .anyMatch(Decision::allowed).anyMatch(x -> !x.allowed());
            }
        }
    }

    /** Every source to every destination port, plus one port nobody declares. */
    private static List<Query> queries(Mesh mesh) {
        List<Query> out = new ArrayList<>();
        for (Workload from : mesh.workloads()) {
            for (Workload to : mesh.workloads()) {
                Stream.concat(to.ports().stream().map(WorkloadPort::port), Stream.of(7777))
                        .forEach(p -> out.add(Query.of(from.id(), to.id(), p)));
            }
        }
        return out;
    }

    private static long bytes(ProxyResources r) {
        return Stream.of(r.listeners(), r.routes(), r.clusters(), r.endpoints()).flatMap(List::stream).map(com.google.protobuf.MessageLite.class::cast)
                .mapToLong(com.google.protobuf.MessageLite::getSerializedSize).sum();
    }
}
