package dev.septa.policy.compile;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Message;
import dev.septa.policy.check.MeshArbitraries;
import dev.septa.policy.check.MeshYaml;
import dev.septa.policy.emit.ProxyResources;
import dev.septa.policy.model.DefaultAction;
import dev.septa.policy.model.Diagnostic;
import dev.septa.policy.model.Intent;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.MeshConfig;
import dev.septa.policy.model.MtlsMode;
import dev.septa.policy.model.ObjectMeta;
import dev.septa.policy.model.Workload;
import dev.septa.policy.model.WorkloadPort;
import dev.septa.policy.parse.InputFile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.junit.jupiter.api.Test;

/**
 * The incremental compiler is an optimisation only: after any sequence of edits, each of its results equals a full
 * compile of the same files, diagnostics and every proxy's resources byte for byte. Edits are drawn so that most
 * steps change one file and a few proxies (the case the memo is for), some change everything (defaultAction,
 * mTLS), and some break a file (the memo of the last good compile must survive a rejected input).
 */
class IncrementalCompilerTest {
    private static final Path SHOP = Path.of("../examples/shop");

    enum Kind { TOGGLE_INTENT, TOGGLE_WORKLOAD, RELABEL_WORKLOAD, TOGGLE_SERVICE, FLIP_DEFAULT, FLIP_MTLS, BREAK_FILE, NOTHING }

    record Edit(Kind kind, int index) { }

    @Provide
    Arbitrary<Mesh> meshes() {
        return MeshArbitraries.meshes();
    }

    @Provide
    Arbitrary<List<Edit>> edits() {
        Arbitrary<Kind> kinds = Arbitraries.frequency(
                Tuple.of(6, Kind.TOGGLE_INTENT), Tuple.of(3, Kind.TOGGLE_WORKLOAD),
                Tuple.of(3, Kind.RELABEL_WORKLOAD), Tuple.of(2, Kind.TOGGLE_SERVICE),
                Tuple.of(1, Kind.FLIP_DEFAULT), Tuple.of(1, Kind.FLIP_MTLS),
                Tuple.of(1, Kind.BREAK_FILE), Tuple.of(1, Kind.NOTHING));
        return Combinators.combine(kinds, Arbitraries.integers().between(0, 11)).as(Edit::new).list().ofMinSize(1).ofMaxSize(12);
    }

    @Property(tries = 200)
    void everyIncrementalResultEqualsAFullCompile(@ForAll("meshes") Mesh pool, @ForAll("edits") List<Edit> edits) {
        EditedMesh state = new EditedMesh(pool);
        IncrementalCompiler incremental = new IncrementalCompiler();
        assertSame(incremental.compile(state.files(false)), PolicyCompiler.compile(state.files(false)), "initial");
        for (int step = 0; step < edits.size(); step++) {
            Edit edit = edits.get(step);
            boolean broken = state.apply(edit);
            List<InputFile> files = state.files(broken);
            assertSame(incremental.compile(files), PolicyCompiler.compile(files), "after edit " + step + " " + edit);
        }
    }

    @Test
    void aNarrowEditParsesOneFileAndReusesTheOtherProxiesResources() {
        List<InputFile> shop = TestInputs.load(SHOP);
        IncrementalCompiler compiler = new IncrementalCompiler();
        CompiledMesh before = compiler.compile(shop).mesh().orElseThrow();
        List<InputFile> edited = new ArrayList<>(shop);
        edited.add(new InputFile("extra.yaml", """
                apiVersion: septa.dev/v1alpha1
                kind: Intent
                metadata: {name: payments-may-read-catalog, namespace: shop}
                spec:
                  action: Allow
                  from: [{segment: payments}]
                  to: {segment: catalog, ports: [{port: 9090, protocol: GRPC}]}
                """));
        CompiledMesh after = compiler.compile(edited).mesh().orElseThrow();

        assertThat(compiler.lastStats().filesParsed()).isEqualTo(1);
        assertThat(compiler.lastStats().filesReused()).isEqualTo(shop.size());
        assertSame(new CompileResult(after.warnings(), java.util.Optional.of(after)), PolicyCompiler.compile(edited), "edited");
        int reused = 0;
        int changed = 0;
        for (CompiledProxy proxy : after.proxies().values()) {
            CompiledProxy old = before.proxies().get(proxy.workloadId());
            if (proxy.envoy() == old.envoy()) {
                reused++;
            } else {
                assertThat(bytes(proxy.envoy())).isNotEqualTo(bytes(old.envoy()));
                changed++;
            }
        }
        assertThat(changed).as("payments' outbound and the catalog replicas' inbound changed").isGreaterThanOrEqualTo(3);
        assertThat(reused).as("every other proxy keeps its resources instance").isEqualTo(after.proxies().size() - changed);
    }

    @Test
    void aRejectedInputKeepsTheMemoOfTheLastGoodCompile() {
        List<InputFile> shop = TestInputs.load(SHOP);
        IncrementalCompiler compiler = new IncrementalCompiler();
        CompiledMesh good = compiler.compile(shop).mesh().orElseThrow();
        List<InputFile> broken = new ArrayList<>(shop);
        broken.add(new InputFile("broken.yaml", "kind: Intent\nmetadata: [\n"));
        CompileResult rejected = compiler.compile(broken);
        assertThat(rejected.hasErrors()).isTrue();
        assertThat(rejected.mesh()).isEmpty();

        CompiledMesh again = compiler.compile(shop).mesh().orElseThrow();
        assertThat(compiler.lastStats().filesParsed()).isZero();
        again.proxies().forEach((id, p) -> assertThat(p.envoy()).isSameAs(good.proxies().get(id).envoy()));
    }

    private static void assertSame(CompileResult incremental, CompileResult full, String when) {
        assertThat(incremental.diagnostics().stream().map(Diagnostic::toString).toList()).as(when)
                .isEqualTo(full.diagnostics().stream().map(Diagnostic::toString).toList());
        assertThat(incremental.mesh().isPresent()).as(when).isEqualTo(full.mesh().isPresent());
        if (full.mesh().isEmpty()) {
            return;
        }
        CompiledMesh a = incremental.mesh().get();
        CompiledMesh b = full.mesh().get();
        assertThat(a.mesh()).as(when).isEqualTo(b.mesh());
        assertThat(a.proxies().keySet()).as(when).isEqualTo(b.proxies().keySet());
        for (String id : b.proxies().keySet()) {
            for (Dialect d : Dialect.values()) {
                ProxyResources got = a.proxies().get(id).resources(d);
                ProxyResources want = b.proxies().get(id).resources(d);
                if (!java.util.Arrays.equals(bytes(got), bytes(want))) {
                    assertThat(json(got)).as(when + ": " + id + " " + d).isEqualTo(json(want)); // a readable difference
                    assertThat(bytes(got)).as(when + ": " + id + " " + d + " (same JSON, different bytes)").isEqualTo(bytes(want));
                }
            }
        }
    }

    private static String json(ProxyResources r) {
        return String.join("\n", ProxyJson.printAll(r.listeners()), ProxyJson.printAll(r.routes()),
                ProxyJson.printAll(r.clusters()), ProxyJson.printAll(r.endpoints()));
    }

    /** Every resource, in order, with deterministic serialization: equal bytes is what a proxy would be sent. */
    static byte[] bytes(ProxyResources r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            CodedOutputStream coded = CodedOutputStream.newInstance(out);
            coded.useDeterministicSerialization();
            for (List<? extends Message> list : List.of(r.listeners(), r.routes(), r.clusters(), r.endpoints())) {
                coded.writeUInt32NoTag(list.size());
                for (Message m : list) {
                    coded.writeUInt32NoTag(m.getSerializedSize());
                    m.writeTo(coded);
                }
            }
            coded.flush();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }

    /** A pool mesh plus which of its parts are in force; rendered as five files, so most edits touch one. */
    static final class EditedMesh {
        private final Mesh pool;
        private final BitSet intentsOff = new BitSet();
        private final BitSet workloadsOff = new BitSet();
        private final BitSet servicesOff = new BitSet();
        private final Map<Integer, Integer> relabelled = new HashMap<>();
        private DefaultAction defaultAction;
        private MtlsMode mtls;
        private final List<ServiceSpec> services = new ArrayList<>();

        record ServiceSpec(String name, String namespace, String app, List<WorkloadPort> ports) { }

        EditedMesh(Mesh pool) {
            this.pool = pool;
            this.defaultAction = pool.config().defaultAction();
            this.mtls = pool.config().mtls();
            // One service per (namespace, app) present in the pool, with the ports its workloads declare.
            Map<String, ServiceSpec> byKey = new TreeMap<>();
            for (Workload w : pool.workloads()) {
                String app = w.metadata().labels().get("app");
                if (app != null && !w.ports().isEmpty()) {
                    String key = w.metadata().namespace() + "/" + app;
                    byKey.putIfAbsent(key, new ServiceSpec(app, w.metadata().namespace(), app, w.ports()));
                }
            }
            services.addAll(byKey.values());
        }

        /** Applies an edit; true when this step's files carry a syntax error (the edit itself is then undone next). */
        boolean apply(Edit e) {
            switch (e.kind()) {
                case TOGGLE_INTENT -> flip(intentsOff, e.index() % pool.intents().size());
                case TOGGLE_WORKLOAD -> flip(workloadsOff, e.index() % pool.workloads().size());
                case RELABEL_WORKLOAD -> relabelled.merge(e.index() % pool.workloads().size(), 1, Integer::sum);
                case TOGGLE_SERVICE -> {
                    if (!services.isEmpty()) {
                        flip(servicesOff, e.index() % services.size());
                    }
                }
                case FLIP_DEFAULT -> defaultAction = defaultAction == DefaultAction.ALLOW ? DefaultAction.DENY : DefaultAction.ALLOW;
                case FLIP_MTLS -> mtls = mtls == MtlsMode.STRICT ? MtlsMode.PERMISSIVE : MtlsMode.STRICT;
                case BREAK_FILE -> {
                    return true;
                }
                case NOTHING -> { }
            }
            return false;
        }

        private static void flip(BitSet set, int i) {
            set.flip(i);
        }

        List<InputFile> files(boolean broken) {
            List<Intent> intents = new ArrayList<>();
            for (int i = 0; i < pool.intents().size(); i++) {
                if (!intentsOff.get(i)) {
                    intents.add(pool.intents().get(i));
                }
            }
            List<Workload> workloads = new ArrayList<>();
            for (int i = 0; i < pool.workloads().size(); i++) {
                if (workloadsOff.get(i)) {
                    continue;
                }
                Workload w = pool.workloads().get(i);
                int shift = relabelled.getOrDefault(i, 0);
                if (shift > 0) {
                    Map<String, String> labels = new TreeMap<>(w.metadata().labels());
                    labels.put("app", MeshArbitraries.APPS.get(shift % MeshArbitraries.APPS.size()));
                    w = new Workload(new ObjectMeta(w.metadata().name(), w.metadata().namespace(), labels), w.serviceAccount(),
                            w.address(), w.ports(), w.source());
                }
                workloads.add(w);
            }
            MeshConfig c = pool.config();
            Mesh mesh = new Mesh(new MeshConfig(c.trustDomain(), defaultAction, mtls, c.certificateTTL()), pool.segments(),
                    intents, workloads, List.of());
            Map<String, StringBuilder> files = new TreeMap<>();
            for (String doc : MeshYaml.print(mesh).split("(?m)^---\\n")) {
                files.computeIfAbsent(fileOf(doc), k -> new StringBuilder()).append("---\n").append(doc);
            }
            StringBuilder inventory = files.computeIfAbsent("inventory.yaml", k -> new StringBuilder());
            for (int i = 0; i < services.size(); i++) {
                if (servicesOff.get(i)) {
                    continue;
                }
                ServiceSpec s = services.get(i);
                inventory.append("---\napiVersion: septa.dev/v1alpha1\nkind: Service\nmetadata: {name: ").append(s.name())
                        .append(", namespace: ").append(s.namespace()).append("}\nspec:\n  selector: {app: ").append(s.app())
                        .append("}\n  ports: [");
                for (int p = 0; p < s.ports().size(); p++) {
                    WorkloadPort port = s.ports().get(p);
                    inventory.append(p == 0 ? "" : ", ").append("{name: ").append(port.name()).append(", port: ")
                            .append(port.port()).append(", protocol: ").append(port.protocol()).append('}');
                }
                inventory.append("]\n");
            }
            if (broken) {
                files.computeIfAbsent("intents-even.yaml", k -> new StringBuilder()).append("---\nkind: Intent\nmetadata: [\n");
            }
            List<InputFile> out = new ArrayList<>();
            files.forEach((name, text) -> out.add(new InputFile(name, text.toString())));
            return out;
        }

        /** MeshConfig, segments, intents split in two (by name), inventory: five files. */
        private static String fileOf(String doc) {
            if (doc.contains("kind: MeshConfig")) {
                return "mesh.yaml";
            }
            if (doc.contains("kind: Segment")) {
                return "segments.yaml";
            }
            if (doc.contains("kind: Intent")) {
                int digit = doc.indexOf("name: i") + "name: i".length();
                return (doc.charAt(digit) - '0') % 2 == 0 ? "intents-even.yaml" : "intents-odd.yaml";
            }
            return "inventory.yaml";
        }
    }
}
