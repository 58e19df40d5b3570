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
import dev.septa.policy.check.MeshArbitraries;
import dev.septa.policy.model.EgressRule;
import dev.septa.policy.model.ObjectMeta;
import dev.septa.policy.model.SegmentRef;
import dev.septa.policy.model.Service;
import dev.septa.policy.model.Source;
import java.util.HashSet;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * Segment {@code spec.egress} (decision 0009) on the golden case {@code egress-scoping}: under
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

    /**
     * On random meshes (MeshArbitraries, plus one Service per namespace and app) with random {@code egress} on random
     * Segments: under Allow, a scoped workload is routed to at least its Allow intents' targets (its Deny-mode reach)
     * and an unscoped one to every service; no decision changes; under Deny nothing changes.
     */
    @Property(tries = 60)
    void randomScopesNeverDropAnAllowTargetNorChangeADecision(@ForAll("scopedMeshes") Mesh mesh) {
        Mesh unscoped = unscoped(mesh);
        Mesh allow = withDefault(mesh, DefaultAction.ALLOW);
        Map<String, List<String>> scopedReach = reach(allow);
        Map<String, List<String>> everything = reach(unscoped(allow));
        Map<String, List<String>> allowTargets = reach(withDefault(mesh, DefaultAction.DENY));
        Set<String> scopedIds = new HashSet<>();
        var resolved = dev.septa.policy.resolve.SelectorResolver.resolve(mesh);
        for (Segment s : mesh.segments()) {
            if (s.egress() != null) {
                resolved.members(s.ref()).forEach(w -> scopedIds.add(w.id()));
            }
        }
        for (Workload w : mesh.workloads()) {
            List<String> r = scopedReach.get(w.id());
            assertThat(everything.get(w.id())).containsAll(r);
            assertThat(r).as("Allow targets of %s", w.id()).containsAll(allowTargets.get(w.id()));
            if (!scopedIds.contains(w.id())) {
                assertThat(r).as("unscoped %s", w.id()).isEqualTo(everything.get(w.id()));
            }
        }
        Mesh deny = withDefault(mesh, DefaultAction.DENY);
        assertThat(CompiledMeshFiles.files(compile(deny))).isEqualTo(CompiledMeshFiles.files(compile(unscoped(deny))));
        List<Query> queries = new ArrayList<>();
        for (Workload from : mesh.workloads()) {
            for (Workload to : mesh.workloads()) {
                MeshArbitraries.QUERY_PORTS.forEach(p -> queries.add(Query.of(from.id(), to.id(), p)));
            }
        }
        for (Mesh m : List.of(allow, deny)) {
            CompiledMesh a = compile(m);
            CompiledMesh b = compile(unscoped(m));
            for (Dialect d : Dialect.values()) {
                Checker ca = new Checker(a, d);
                Checker cb = new Checker(b, d);
                assertThat(queries.stream().map(ca::check).toList()).isEqualTo(queries.stream().map(cb::check).toList());
            }
        }
        assertThat(unscoped.segments()).allMatch(s -> s.egress() == null);
    }

    @Provide
    Arbitrary<Mesh> scopedMeshes() {
        Arbitrary<EgressRule> rule = Arbitraries.oneOf(
                Arbitraries.of(MeshArbitraries.NAMESPACES).map(EgressRule.NamespaceRule::new),
                Combinators.combine(Arbitraries.of(MeshArbitraries.NAMESPACES), Arbitraries.of(MeshArbitraries.APPS))
                        .as(EgressRule.ServiceRule::new),
                Combinators.combine(Arbitraries.of(MeshArbitraries.NAMESPACES), Arbitraries.integers().between(1, 4))
                        .as((ns, i) -> new EgressRule.SegmentRule(new SegmentRef(ns, "s" + i))));
        Arbitrary<List<List<EgressRule>>> scopes = rule.list().ofMaxSize(3).injectNull(0.5).list().ofSize(12);
        return Combinators.combine(MeshArbitraries.meshes(), scopes).as((mesh, egress) -> {
            List<Segment> segments = new ArrayList<>();
            for (int i = 0; i < mesh.segments().size(); i++) {
                Segment s = mesh.segments().get(i);
                segments.add(new Segment(s.metadata(), s.selector(), egress.get(i % egress.size()), s.source()));
            }
            List<Service> services = new ArrayList<>();
            for (String ns : MeshArbitraries.NAMESPACES) {
                for (String app : MeshArbitraries.APPS) {
                    services.add(new Service(new ObjectMeta(app, ns, Map.of()), Map.of("app", app),
                            MeshArbitraries.PORTS, new Source("generated", 500, 1)));
                }
            }
            return new Mesh(mesh.config(), segments, mesh.intents(), mesh.workloads(), services, mesh.quarantines());
        });
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
