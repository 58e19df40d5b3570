package dev.septa.e2e.polyglot;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.septa.controlplane.ControlPlane;
import dev.septa.controlplane.ControlPlaneOptions;
import dev.septa.controlplane.support.SeptaRun;
import dev.septa.demo.DemoWorkload;
import dev.septa.demo.WorkloadEvents;
import dev.septa.demo.WorkloadProcess;
import dev.septa.e2e.polyglot.PolyglotMesh.Implementation;
import dev.septa.e2e.polyglot.PolyglotMesh.Member;
import dev.septa.sidecar.agent.SdsAgent;
import dev.septa.sidecar.bootstrap.CertificateFileLayout;
import dev.septa.sidecar.bootstrap.ControlPlaneEndpoint;
import dev.septa.sidecar.bootstrap.GrpcBootstrapGenerator;
import dev.septa.sidecar.bootstrap.ProxyNode;
import dev.septa.sidecar.relay.UpstreamCredentials;
import dev.septa.sidecar.relay.XdsRelay;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Septa's policy enforced by two independent gRPC implementations side by side: grpc-java 1.85 workloads (Septa's
 * demo workload, its xDS through its agent's relay with insecure creds) and gRPC C-core 1.51 workloads (Debian's
 * python3-grpcio, {@code polyglot/workload.py}) each beside its own agent (an {@link SdsAgent} writing the SVID files
 * and an {@link XdsRelay} on a Unix socket, run here in the test JVM). Every call between every pair, on every
 * path, is compared with {@code septa check --queries}; then a policy edit and certificate rotations.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PolyglotE2ETest {
    static final String PYTHON = "/usr/bin/python3";
    // Short enough to rotate several times per run, long enough that a machine under heavy load (load average 30 on
    // 2 cores was seen) still renews each certificate well before it expires.
    static final Duration CERTIFICATE_TTL = Duration.ofSeconds(30);
    Path work;
    Path intents;
    Path inventory;
    PolyglotMesh mesh;
    ControlPlane cp;
    final Map<String, WorkloadProcess> processes = new LinkedHashMap<>();
    final List<AutoCloseable> agents = new ArrayList<>();
    /** Calls served by grpc-java workloads: (server, caller's SPIFFE ID, caller's certificate serial). */
    final List<String[]> served = new CopyOnWriteArrayList<>();

    @BeforeAll
    void start() throws Exception {
        Process probe = new ProcessBuilder(PYTHON, "-c", "import grpc; print(grpc.__version__)").redirectErrorStream(true).start();
        String version = new String(probe.getInputStream().readAllBytes()).strip();
        assertThat(probe.waitFor()).as("Debian's python3-grpcio is needed (apt-get install python3-grpcio): " + version).isZero();

        work = Files.createTempDirectory("septa-polyglot");
        intents = work.resolve("intents");
        inventory = work.resolve("inventory.yaml");
        mesh = PolyglotMesh.generate();
        mesh.write(intents, inventory);
        cp = ControlPlane.start(ControlPlaneOptions.builder().intentsDir(intents).inventoryFile(inventory)
                .stateDir(work.resolve("state")).xdsHost("127.0.0.1").xdsPort(0).httpHost("127.0.0.1").httpPort(0)
                .minCertificateTtl(Duration.ofSeconds(5)).certificateTtl(CERTIFICATE_TTL).build());
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (cp.core().meshState().mesh().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        Path trustBundle = work.resolve("state").resolve("ca").resolve("trust-bundle.pem");
        var endpoint = ControlPlaneEndpoint.parse("127.0.0.1:" + cp.xdsPort(), Files.readString(trustBundle));
        for (Member m : mesh.members()) {
            Path dir = work.resolve(m.name());
            Files.createDirectories(dir);
            Path token = dir.resolve("node-token");
            Files.writeString(token, cp.core().nodeTokens().mint(m.id(), Duration.ofMinutes(10)));
            Path log = dir.resolve("workload.log");
            if (m.implementation() == Implementation.JAVA) {
                processes.put(m.name(), WorkloadProcess.start(m.id(), List.of("--workload", m.id(), "--service-account", m.name(),
                        "--label", "app=" + m.app(), "--label", "instance=" + m.name(), "--address", m.address(),
                        "--port", String.valueOf(m.port()), "--server", endpoint.authority(), "--trust-bundle", trustBundle.toString(),
                        "--token-file", token.toString(), "--dir", dir.resolve("certs").toString(), "--interval", "PT1H"),
                        log, event -> record(m, event)));
            } else {
                processes.put(m.name(), startCore(m, endpoint, dir, token, log));
            }
        }
        for (var process : processes.values()) {
            process.ready().get(180, TimeUnit.SECONDS);
        }
    }

    /** A C-core workload beside its agent: SVID files and relay first, then the Python process on a relayed bootstrap. */
    private WorkloadProcess startCore(Member m, ControlPlaneEndpoint endpoint, Path dir, Path token, Path log) throws Exception {
        var node = new ProxyNode("poly", m.name(), Map.of("app", m.app(), "instance", m.name()), m.name());
        var files = new CertificateFileLayout(dir.resolve("certs"));
        var agent = new SdsAgent(node, endpoint, () -> read(token), files, new SdsAgent.Listener() {
            @Override
            public void written(dev.septa.sidecar.agent.CertificateBundle bundle) {
                record(m, new WorkloadEvents.Event("agent", List.of("certificate written, expires " + bundle.notAfter())));
            }

            @Override
            public void failed(String message) {
                record(m, new WorkloadEvents.Event("agent", List.of(message)));
            }
        }).start();
        agents.add(agent);
        assertThat(agent.awaitFirstWrite(Duration.ofSeconds(60))).as(m.name() + " got its SVID").isTrue();
        var relay = new XdsRelay(node.id(), new UpstreamCredentials(endpoint, files, () -> read(token)), new XdsRelay.Listener() {})
                .start(dir.resolve("certs").resolve("xds.sock"), Optional.empty());
        agents.add(relay);
        Path bootstrap = dir.resolve("bootstrap.json");
        Files.writeString(bootstrap, new GrpcBootstrapGenerator().generateRelayed(node, GrpcBootstrapGenerator.unixUri(relay.socket()), files));
        Path script = work.resolve("workload.py");
        if (!Files.exists(script)) {
            try (var in = PolyglotE2ETest.class.getResourceAsStream("/polyglot/workload.py")) {
                Files.write(script, in.readAllBytes());
            }
        }
        return WorkloadProcess.startCommand(m.id(), List.of(PYTHON, "-u", script.toString(), "--workload", m.id(),
                "--port", String.valueOf(m.port()), "--connection-age", String.valueOf(CERTIFICATE_TTL.toMillis() / 4)),
                Map.of("GRPC_XDS_BOOTSTRAP", bootstrap.toString()), log, event -> record(m, event));
    }

    private static Optional<String> read(Path token) {
        try {
            return Optional.of(Files.readString(token).strip());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private void record(Member server, WorkloadEvents.Event event) {
        if (!event.kind().equals("call") && !event.kind().equals("served")) {
            try {
                Files.writeString(work.resolve(server.name()).resolve("events.log"), java.time.Instant.now() + " " + event + "\n",
                        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            } catch (IOException e) {
                // diagnostics only
            }
        }
        if (event.kind().equals("served") && server.implementation() == Implementation.JAVA) {
            String[] methodAndCaller = event.field(1).split(" ", 2);
            served.add(new String[] {server.name(), methodAndCaller.length > 1 ? methodAndCaller[1] : "", event.field(2)});
        }
    }

    @AfterAll
    void stop() throws Exception {
        processes.values().forEach(WorkloadProcess::close);
        for (AutoCloseable agent : agents) {
            agent.close();
        }
        if (cp != null) {
            cp.close();
        }
    }

    /** One call from a member to another on a path, and what {@code septa check} says about it. */
    record Compared(Member from, Member to, String path, String outcome, String expected, WorkloadEvents.CallResult result) {
        boolean agrees() {
            return outcome.equals(expected);
        }
    }

    private List<Compared> round() throws Exception {
        record Pending(Member from, Member to, String path, CompletableFuture<WorkloadEvents.CallResult> result) {}
        List<Pending> pending = new ArrayList<>();
        for (Member from : mesh.members()) {
            for (Member to : mesh.members()) {
                if (from != to) {
                    for (String path : mesh.paths()) {
                        pending.add(new Pending(from, to, path, processes.get(from.name()).call(to.target(), path)));
                    }
                }
            }
        }
        var queries = new StringBuilder();
        for (Pending p : pending) {
            queries.append("{\"from\":\"%s\",\"to\":\"%s\",\"port\":%d,\"method\":\"POST\",\"path\":\"%s\"}\n"
                    .formatted(p.from().id(), p.to().id(), p.to().port(), p.path()));
        }
        Path file = work.resolve("queries.jsonl");
        Files.writeString(file, queries);
        SeptaRun check = SeptaRun.of("check", "-f", intents.toString(), inventory.toString(), "--queries", file.toString());
        assertThat(check.err()).isEmpty();
        List<String> answers = check.out().lines().toList();
        assertThat(answers).hasSize(pending.size());
        List<Compared> compared = new ArrayList<>();
        for (int i = 0; i < pending.size(); i++) {
            Pending p = pending.get(i);
            JsonObject answer = JsonParser.parseString(answers.get(i)).getAsJsonObject();
            WorkloadEvents.CallResult result = p.result().get(60, TimeUnit.SECONDS);
            String outcome = result.ok() ? "ALLOW" : result.permissionDenied() ? "DENY" : result.code();
            compared.add(new Compared(p.from(), p.to(), p.path(), outcome, answer.get("decision").getAsString(), result));
        }
        return compared;
    }

    private static String describe(List<Compared> disagreements) {
        var text = new StringBuilder();
        disagreements.stream().limit(20).forEach(c -> text.append("\n  ").append(c.from().name()).append(" -> ").append(c.to().name())
                .append(' ').append(c.path()).append(": ").append(c.outcome()).append(" (").append(c.result().detail())
                .append("), septa check: ").append(c.expected()));
        return text.toString();
    }

    @Test
    @Order(1)
    void everyCallOfBothImplementationsAgreesWithSeptaCheck() throws Exception {
        round(); // the first calls of each channel wait for its configuration; they are not compared
        List<Compared> compared = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            compared.addAll(round());
        }
        List<Compared> disagreements = compared.stream().filter(c -> !c.agrees()).toList();
        long allowed = compared.stream().filter(c -> c.expected().equals("ALLOW")).count();
        System.out.printf("Polyglot agreement: %d calls compared (%d allowed, %d denied), %d disagreements%n",
                compared.size(), allowed, compared.size() - allowed, disagreements.size());
        assertThat(disagreements).as("calls whose outcome differs from septa check:" + describe(disagreements)).isEmpty();
        // Both directions between the languages carry allowed and denied calls.
        for (Implementation from : Implementation.values()) {
            for (Implementation to : Implementation.values()) {
                var pair = compared.stream().filter(c -> c.from().implementation() == from && c.to().implementation() == to).toList();
                assertThat(pair).as(from + " -> " + to).anyMatch(c -> c.expected().equals("ALLOW"))
                        .anyMatch(c -> c.expected().equals("DENY"));
            }
        }
        // Each implementation's server-side RBAC refused some calls its clients were free to send (the client-side
        // egress scope answers the rest with its fault-injection stand-in before any connection).
        for (Implementation server : Implementation.values()) {
            var refusedByServer = compared.stream().filter(c -> c.to().implementation() == server && c.outcome().equals("DENY")
                    && !clientSideFault(c.result().detail())).toList();
            System.out.printf("denied by %s servers' RBAC: %d, e.g. %s%n", server, refusedByServer.size(),
                    refusedByServer.isEmpty() ? "-" : refusedByServer.getFirst().result().detail());
            assertThat(refusedByServer).as(server + " servers enforce RBAC").isNotEmpty();
        }
        // mTLS: every allowed call was served to the caller's own SPIFFE ID, whichever implementation served it.
        for (Compared c : compared) {
            if (c.outcome().equals("ALLOW")) {
                assertThat(c.result().server()).as(c.toString()).isEqualTo(c.to().id());
                assertThat(c.result().callerSeen()).as(c.from().name() + " -> " + c.to().name()).contains(c.from().spiffeId());
            }
        }
    }

    /** grpc-java says "Fault injected", the C-core "RPC terminated due to fault injection". */
    private static boolean clientSideFault(String detail) {
        return detail.contains("Fault injected") || detail.contains("fault injection");
    }

    /** The call's outcome as septa check words it: ALLOW, DENY, or the status code of anything else. */
    private String outcome(Member from, Member to, String path) throws Exception {
        WorkloadEvents.CallResult result = processes.get(from.name()).call(to.target(), path).get(60, TimeUnit.SECONDS);
        return result.ok() ? "ALLOW" : result.permissionDenied() ? "DENY" : result.code() + " " + result.detail();
    }

    final java.util.concurrent.atomic.AtomicInteger drainRaces = new java.util.concurrent.atomic.AtomicInteger();

    /** Policy edits measured in this run; each flips whether api may read db (an enforced Deny on the path). */
    static final int EDITS = 6;
    /**
     * What the test holds every edit to, from the file's rename to the first call each server refuses (or lets
     * through again). On the shared 2-core machine at load average ~34 the worst of twelve was 2.2 s, the median 1.3 s
     * (docs/proxyless.md); earlier runs saw 5 s at load 45. A bound the product keeps under such load, not the goal.
     */
    static final Duration EDIT_BOUND = Duration.ofSeconds(5);

    @Test
    @Order(2)
    void policyEditsAreEnforcedByBothImplementationsAndTimedStageByStage() throws Exception {
        Member apiJava = member("api-java");
        Member apiCore = member("api-core");
        Member dbJava = member("db-java");
        Member dbCore = member("db-core");
        // grpc-java enforces for the C-core's calls, and the C-core for grpc-java's.
        List<Member[]> pairs = List.of(new Member[] {apiCore, dbJava}, new Member[] {apiJava, dbCore});
        for (Member[] pair : pairs) {
            assertThat(outcome(pair[0], pair[1], "/poly.Db/Read")).isEqualTo("ALLOW");
        }
        List<Long> enforced = new ArrayList<>();
        List<String> rows = new ArrayList<>();
        try {
            for (int edit = 1; edit <= EDITS; edit++) {
                boolean deny = edit % 2 == 1;
                String wanted = deny ? "DENY" : "ALLOW";
                Object meshBefore = cp.core().meshState().mesh().orElseThrow();
                Map<String, String> snapshotBefore = new LinkedHashMap<>();
                for (Member[] pair : pairs) {
                    snapshotBefore.put(pair[1].id(), snapshotOf(pair[1].id()));
                }
                long written = System.nanoTime();
                mesh.writeIntents(intents, deny ? List.of("/poly.Db/Drop", "/poly.Db/Read") : List.of("/poly.Db/Drop"));
                List<CompletableFuture<Long>> firsts = new ArrayList<>();
                for (Member[] pair : pairs) {
                    firsts.add(CompletableFuture.supplyAsync(() -> {
                        try {
                            return waitFor(pair[0], pair[1], "/poly.Db/Read", wanted);
                        } catch (Exception e) {
                            throw new java.util.concurrent.CompletionException(e);
                        }
                    }));
                }
                // Control plane: the file seen, debounced, compiled and published (the mesh in force replaced) ...
                long published = until(() -> cp.core().meshState().mesh().orElseThrow() != meshBefore);
                // ... each server's new Listener ACKed through its relay (watched for both at once) ...
                List<CompletableFuture<Long>> acks = new ArrayList<>();
                for (Member[] pair : pairs) {
                    String server = pair[1].id();
                    acks.add(CompletableFuture.supplyAsync(() -> {
                        try {
                            return until(() -> cp.core().cache().status().stream().anyMatch(p -> p.nodeId().equals(server)
                                    && p.inSync() && !java.util.Objects.equals(p.snapshot(), snapshotBefore.get(server))));
                        } catch (InterruptedException e) {
                            throw new java.util.concurrent.CompletionException(e);
                        }
                    }));
                }
                var row = new StringBuilder("edit %d (%s): published %d ms".formatted(edit, wanted, ms(published - written)));
                for (int i = 0; i < pairs.size(); i++) {
                    Member server = pairs.get(i)[1];
                    // ... and the first call the server judges by it.
                    long acked = acks.get(i).get(30, TimeUnit.SECONDS);
                    long first = firsts.get(i).get(30, TimeUnit.SECONDS);
                    enforced.add(first - written);
                    row.append(", %s (%s) ACKed %d ms, enforced %d ms".formatted(server.name(), server.implementation(),
                            ms(acked - written), ms(first - written)));
                }
                rows.add(row.toString());
                System.out.println(row);
                Thread.sleep(1000); // the C-core drains its connections after a Listener change; let it settle
            }
        } finally {
            mesh.writeIntents(intents, List.of("/poly.Db/Drop"));
        }
        List<Long> sorted = enforced.stream().sorted().toList();
        System.out.printf("policy edits: %d enforcements (both servers, %d edits): min %d ms, median %d ms, max %d ms; "
                        + "%d calls raced the C-core's drain%n",
                sorted.size(), EDITS, ms(sorted.getFirst()), ms(sorted.get(sorted.size() / 2)), ms(sorted.getLast()), drainRaces.get());
        assertThat(sorted.getLast()).as("every edit enforced by both servers within " + EDIT_BOUND + ":\n" + String.join("\n", rows))
                .isLessThan(EDIT_BOUND.toNanos());
    }

    private static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    /** Polls every 5 ms; the instant the condition first held (fails after 30 s). */
    private static long until(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return System.nanoTime();
            }
            Thread.sleep(5);
        }
        throw new AssertionError("not within 30 s");
    }

    private String snapshotOf(String nodeId) {
        return cp.core().cache().status().stream().filter(p -> p.nodeId().equals(nodeId)).map(p -> p.snapshot())
                .filter(java.util.Objects::nonNull).findFirst().orElse(null);
    }

    /** Calls every 25 ms until the outcome is {@code wanted}; the instant the first such call was made. */
    private long waitFor(Member from, Member to, String path, String wanted) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            long sent = System.nanoTime();
            String outcome = outcome(from, to, path);
            if (outcome.equals(wanted)) {
                return sent;
            }
            if (!outcome.equals("ALLOW") && !outcome.equals("DENY")) {
                // The C-core 1.51 drains its connections when its Listener changes, and a call racing that drain
                // fails (grpc-java: INTERNAL "Abrupt GOAWAY ... Server is stopping to serve requests"). Not a policy
                // outcome and never a call let through; anything else is a failure.
                assertThat(outcome).as("only ALLOW, DENY or the C-core's drain while the edit propagates")
                        .contains("Server is stopping to serve requests");
                drainRaces.incrementAndGet();
            }
            Thread.sleep(25);
        }
        throw new AssertionError(from.name() + " -> " + to.name() + " " + path + " never became " + wanted);
    }

    private Member member(String name) {
        return mesh.members().stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow();
    }

    /**
     * Certificates live 30 s and are renewed at about half their life; connections end every quarter life, so each call
     * of this minute-long stretch rides on handshakes with current certificates. No allowed call may fail, and grpc-java
     * servers must see the C-core callers present successive certificates, which the C-core reads through file_watcher.
     */
    @Test
    @Order(3)
    void certificateRotationsArePickedUpByTheCoreWithNoFailedCall() throws Exception {
        List<Member[]> allowed = List.of(new Member[] {member("api-core"), member("db-java")}, new Member[] {member("api-java"), member("db-core")},
                new Member[] {member("web-core"), member("api-java")}, new Member[] {member("web-java"), member("api-core")},
                new Member[] {member("db-core"), member("web-java")}, new Member[] {member("db-java"), member("web-core")});
        List<String> paths = List.of("/poly.Db/Read", "/poly.Db/Read", "/poly.Api/Get", "/poly.Api/Get", "/poly.Health/Check", "/poly.Health/Check");
        Thread.sleep(2000); // lets the C-core finish draining connections after the previous test's Listener update
        served.clear();
        long end = System.nanoTime() + CERTIFICATE_TTL.multipliedBy(2).toNanos();
        int calls = 0;
        List<String> failures = new ArrayList<>();
        while (System.nanoTime() < end) {
            List<CompletableFuture<WorkloadEvents.CallResult>> round = new ArrayList<>();
            for (int i = 0; i < allowed.size(); i++) {
                round.add(processes.get(allowed.get(i)[0].name()).call(allowed.get(i)[1].target(), paths.get(i)));
            }
            for (var result : round) {
                WorkloadEvents.CallResult r = result.get(60, TimeUnit.SECONDS);
                calls++;
                if (!r.ok()) {
                    failures.add(r.from() + " -> " + r.target() + ": " + r.code() + " " + r.detail());
                }
            }
            Thread.sleep(100);
        }
        System.out.printf("rotation: %d calls over %d s, %d failed%n", calls, CERTIFICATE_TTL.multipliedBy(2).toSeconds(), failures.size());
        assertThat(failures).isEmpty();
        var coreSerials = served.stream().filter(s -> s[1].equals(member("api-core").spiffeId())).map(s -> s[2]).distinct().toList();
        assertThat(coreSerials).as("certificates api-core presented to db-java").hasSizeGreaterThanOrEqualTo(2);
    }
}
