package dev.septa.bench;

import dev.septa.controlplane.ControlPlane;
import dev.septa.controlplane.ControlPlaneOptions;
import dev.septa.controlplane.xds.ProxyConfigCache;
import dev.septa.identity.KeyedCertificate;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Fleet benchmark v2 (not JMH: one measurement is a whole fleet). Starts the control plane in-process on a generated
 * mesh of N workloads (N/10 apps of 10 replicas, one Service each, a chain of Allow intents, {@code defaultAction:
 * Deny}), connects N simulated Envoys in a second JVM ({@link FleetClients}, {@link FleetProxy}: one TLS connection
 * each, half SotW and half delta ADS, EDS/RDS by name, SDS), and measures, from the file write to each proxy's last
 * ACK: one intent added, the same intent edited, {@code defaultAction} flipped to Allow, endpoint churn (a pod of
 * app-0 added, then removed, under Allow), and a reconnect storm (the control plane closed and started again on the
 * same port and state directory with the fleet connected). Then the transport floor in the same run: the control
 * plane is closed, a bare grpc-java server ({@link FloorServer}) takes its port, the same proxies reconnect, and it
 * pushes each proxy exactly the bytes it received in each scenario. Both JVMs read the same {@code CLOCK_MONOTONIC}.
 *
 * <p>{@code FleetBenchmark N [N...] [--runs K]}: with K > 1 each run is a fresh JVM and the median, min and max of
 * every figure are printed. The output ends with one line
 * {@code fleet N=.. added-p99=.. edited-p99=.. churn-p99=.. flip-p99=.. storm=.. flip-floor-ratio=.. rss-per-proxy-kb=..}.
 * Properties: {@code fleet.kinds} (mixed, sotw, delta), {@code fleet.nackShare} (0.01), {@code fleet.warmup} (5),
 * {@code fleet.clientXmx} (3g), {@code fleet.clientThreads} (2), {@code fleet.egress} (10: each app's Segment scopes its
 * egress to the next 10 apps and app-0, see {@link #segmentsYaml(int, int)}; {@code all}: no scoping),
 * {@code fleet.settleSeconds} (the larger of 60 and N/50).
 */
public final class FleetBenchmark {
    static final List<String> FIGURES = List.of("added-p99", "edited-p99", "churn-p99", "flip-p99", "storm",
            "flip-floor-ratio", "rss-per-proxy-kb");

    public static void main(String[] args) throws Exception {
        int runs = 1;
        List<Integer> sizes = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--runs")) {
                runs = Integer.parseInt(args[++i]);
            } else {
                sizes.add(Integer.parseInt(args[i]));
            }
        }
        if (sizes.isEmpty()) {
            sizes.add(1000);
        }
        String last = null;
        for (int n : sizes) {
            last = runs <= 1 ? run(n).summary() : repeat(n, runs);
        }
        System.out.println(last);
        System.exit(0);
    }

    /** One result of a scenario: file write (or restart) to each proxy's last ACK, in ms, plus what it cost. */
    record Figures(String name, int affected, long p50, long p99, long max, long serverCpuMs, long bytes) {
        String row() {
            return String.format("| %s | %d | %d | %d | %d | %d | %s |", name, affected, p50, p99, max, serverCpuMs, kb(bytes));
        }
    }

    /** One run: the scenarios, their floors, memory. */
    record Result(int n, Map<String, Figures> scenarios, Map<String, Figures> floors, long stormMs, double rssPerProxyKb,
                  double heapPerProxyKb, double directPerProxyKb, long[] clientMemoryKb) {
        double ratio(String scenario) {
            Figures f = floors.get(scenario);
            return f == null || f.p99 <= 0 ? Double.NaN : (double) scenarios.get(scenario).p99 / f.p99;
        }

        long churnP99() {
            return Math.max(scenarios.get("churn-add").p99, scenarios.get("churn-remove").p99);
        }

        String summary() {
            return String.format(Locale.ROOT,
                    "fleet N=%d added-p99=%d edited-p99=%d churn-p99=%d flip-p99=%d storm=%d flip-floor-ratio=%.2f rss-per-proxy-kb=%.1f",
                    n, scenarios.get("added").p99, scenarios.get("edited").p99, churnP99(), scenarios.get("flip").p99,
                    stormMs, ratio("flip"), rssPerProxyKb);
        }
    }

    static final List<String> SCENARIOS = List.of("added", "edited", "flip", "churn-add", "churn-remove", "storm");

    static Result run(int n) throws Exception {
        double[] load0 = loadAverage();
        Path dir = Files.createTempDirectory("septa-fleet-" + n);
        int apps = Math.max(4, n / 10);
        Path intents = Files.createDirectories(dir.resolve("intents"));
        Path inventory = dir.resolve("inventory.yaml");
        Files.writeString(intents.resolve("mesh.yaml"), meshYaml("Deny"));
        Files.writeString(intents.resolve("segments.yaml"), segmentsYaml(apps, egress()));
        Files.writeString(intents.resolve("intents.yaml"), chainYaml(apps));
        Files.writeString(inventory, inventoryYaml(n, apps));
        ControlPlaneOptions options = ControlPlaneOptions.builder().intentsDir(intents).inventoryFile(inventory)
                .stateDir(dir.resolve("state")).xdsHost("127.0.0.1").xdsPort(0).httpPort(0).build();
        Map<String, Figures> scenarios = new LinkedHashMap<>();
        Map<String, Figures> floors = new LinkedHashMap<>();
        ControlPlane cp = ControlPlane.start(options);
        FleetClients.Fleet fleet = null;
        try {
            String bundle = Files.readString(dir.resolve("state/ca/trust-bundle.pem"));
            await(Duration.ofMinutes(10), () -> cp.core().meshState().status().appliedAt() != null);
            long[] mem0 = serverMemory();
            List<String> nodes = new ArrayList<>(n);
            List<String> tokens = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                nodes.add("bench/" + workload(i, apps));
                tokens.add(cp.core().nodeTokens().mint(nodes.getLast(), Duration.ofHours(4)));
            }
            long connectStart = System.nanoTime();
            fleet = FleetClients.Fleet.start(cp.xdsPort(), dir, bundle, nodes, tokens);
            fleet.awaitSynced();
            awaitSettled(cp, fleet, Duration.ofMinutes(10));
            System.out.printf("n=%d: %d proxies (%s, egress %s) synced in %d ms, client JVM %d%n", n, n,
                    System.getProperty("fleet.kinds", "mixed"), egress() < 0 ? "all" : "next " + egress() + " apps + app-0", (System.nanoTime() - connectStart) / 1_000_000, fleet.pid());
            // The CA issues every node its certificate right after connect; let that finish before measuring.
            long issuing = System.nanoTime();
            await(Duration.ofMinutes(5), () -> secretsAcked(cp, n));
            System.out.printf("n=%d: every proxy ACKed its certificate %d ms later%n", n, (System.nanoTime() - issuing) / 1_000_000);
            long[] mem1 = serverMemory();
            double rss = (mem1[0] - mem0[0]) / (double) n;
            double heap = (mem1[1] - mem0[1]) / (double) n;
            double direct = (mem1[2] - mem0[2]) / (double) n;
            System.out.printf("n=%d: server resident memory %d MB -> %d MB (heap %d -> %d MB, direct %d -> %d KB): "
                            + "%.1f KB per proxy (heap %.1f KB, direct %.1f KB)%n", n, mem0[0] >> 10, mem1[0] >> 10,
                    mem0[1] >> 10, mem1[1] >> 10, mem0[2], mem1[2], rss, heap, direct);

            int warmups = Integer.getInteger("fleet.warmup", 5);
            for (int i = 0; i < warmups; i++) {
                // elsewhere than app-0 and app-2 (the measured intent) when the mesh is big enough
                int from = apps > 5 ? 3 + i % (apps - 5) : i % apps;
                int to = (from + 2) % apps;
                Instant before = cp.core().meshState().status().appliedAt();
                Files.writeString(intents.resolve("warmup.yaml"), intentYaml("warmup", from, to));
                await(Duration.ofMinutes(10), () -> !Objects.equals(before, cp.core().meshState().status().appliedAt()));
                awaitSettled(cp, fleet, Duration.ofMinutes(10));
            }
            System.out.printf("n=%d: %d warm-up edits applied%n", n, warmups);

            FleetClients.Fleet f = fleet;
            scenarios.put("added", measure(cp, f, n, "added", () ->
                    Files.writeString(intents.resolve("extra.yaml"), intentYaml("extra", 0, 2))));
            scenarios.put("edited", measure(cp, f, n, "edited", () ->
                    Files.writeString(intents.resolve("extra.yaml"), intentYaml("extra", 0, 2)
                            .replace("protocol: GRPC}", "protocol: GRPC, http: {paths: [\"/bench.Api/*\"]}}"))));
            scenarios.put("flip", measure(cp, f, n, "flip", () ->
                    Files.writeString(intents.resolve("mesh.yaml"), meshYaml("Allow"))));
            String inventoryBefore = Files.readString(inventory);
            scenarios.put("churn-add", measure(cp, f, n, "churn-add", () ->
                    Files.writeString(inventory, inventoryBefore + extraPodYaml())));
            scenarios.put("churn-remove", measure(cp, f, n, "churn-remove", () ->
                    Files.writeString(inventory, inventoryBefore)));

            // Reconnect storm: the control plane goes away with the fleet connected and comes back on the same port
            // and state directory (same CA, same node-token key): time until every proxy is configured again.
            int port = cp.xdsPort();
            fleet.mark(System.nanoTime(), "storm");
            long cpu0 = serverCpuNanos();
            long t0 = System.nanoTime();
            cp.close();
            ControlPlane restarted = ControlPlane.start(ControlPlaneOptions.builder().intentsDir(intents).inventoryFile(inventory)
                    .stateDir(dir.resolve("state")).xdsHost("127.0.0.1").xdsPort(port).httpPort(0).build());
            try {
                await(Duration.ofMinutes(20), () -> restarted.core().cache().connectedNodes().size() == n);
                awaitSettled(restarted, fleet, Duration.ofMinutes(20));
                await(Duration.ofMinutes(20), () -> secretsAcked(restarted, n));
                long stormNanos = System.nanoTime() - t0;
                Figures storm = figures("storm", fleet.lastAcks(), t0, serverCpuNanos() - cpu0, fleet.bytes());
                scenarios.put("storm", storm);
                System.out.printf("n=%d: reconnect storm: every proxy configured again (certificate included) after %d ms%n",
                        n, stormNanos / 1_000_000);

                // The transport floor, in the same run, over the same kind of connections to the same clients.
                KeyedCertificate serving = restarted.core().certificates().issueServing("spiffe://cluster.local/ns/bench/sa/floor",
                        List.of("localhost"), List.of("127.0.0.1"));
                Path floorDir = dir.resolve("floor");
                fleet.dump(floorDir);
                restarted.close();
                try (FloorServer floor = new FloorServer(port, serving, floorDir)) {
                    await(Duration.ofMinutes(10), () -> floor.connected() == n);
                    for (String scenario : SCENARIOS) {
                        floors.put(scenario, floor(floor, fleet, n, scenario));
                    }
                }
                long[] clientMemory = fleet.memory();
                Result result = new Result(n, scenarios, floors, stormNanos / 1_000_000, rss, heap, direct, clientMemory);
                print(result, load0);
                return result;
            } finally {
                restarted.close();
            }
        } finally {
            if (fleet != null) {
                fleet.close();
            }
            cp.close();
        }
    }

    static void print(Result r, double[] load0) {
        System.out.println();
        System.out.println("| scenario | proxies that ACKed | p50 ms | p99 ms | max ms | server CPU ms | KB sent | floor p50 | floor p99 | floor max | floor CPU ms | p99 / floor p99 |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (Figures s : r.scenarios.values()) {
            Figures f = r.floors.get(s.name);
            System.out.printf(Locale.ROOT, "| %s | %d | %d | %d | %d | %d | %s | %d | %d | %d | %d | %.1f |%n", s.name, s.affected,
                    s.p50, s.p99, s.max, s.serverCpuMs, kb(s.bytes), f.p50, f.p99, f.max, f.serverCpuMs, r.ratio(s.name));
        }
        System.out.printf(Locale.ROOT, "memory per proxy, server: resident %.1f KB (heap %.1f KB, direct %.1f KB); "
                        + "client JVM after GC: resident %d MB, heap %d MB, direct %d MB (%.1f KB resident per proxy)%n",
                r.rssPerProxyKb, r.heapPerProxyKb, r.directPerProxyKb, r.clientMemoryKb[0] >> 10, r.clientMemoryKb[1] >> 10,
                r.clientMemoryKb[2] >> 10, r.clientMemoryKb[0] / (double) r.n);
        double[] load1 = loadAverage();
        System.out.printf(Locale.ROOT, "load average (1/5/15 min): start %.2f %.2f %.2f, end %.2f %.2f %.2f%n",
                load0[0], load0[1], load0[2], load1[0], load1[1], load1[2]);
        if (unsettled > 0) {
            System.out.printf("WARNING: %d times a proxy was left unconverged at the settle bound (see above)%n", unsettled);
        }
    }

    interface Edit {
        void apply() throws Exception;
    }

    static Figures measure(ControlPlane cp, FleetClients.Fleet fleet, int n, String name, Edit edit) throws Exception {
        Instant appliedBefore = cp.core().meshState().status().appliedAt();
        fleet.mark(System.nanoTime(), name);
        long cpu0 = serverCpuNanos();
        long t0 = System.nanoTime();
        edit.apply();
        await(Duration.ofMinutes(10), () -> !Objects.equals(appliedBefore, cp.core().meshState().status().appliedAt()));
        awaitSettled(cp, fleet, Duration.ofMinutes(20));
        Figures f = figures(name, fleet.lastAcks(), t0, serverCpuNanos() - cpu0, fleet.bytes());
        System.out.println("n=" + n + ": " + f.row());
        return f;
    }

    static Figures floor(FloorServer floor, FleetClients.Fleet fleet, int n, String scenario) throws Exception {
        FloorServer.Prepared work = floor.prepare(scenario);
        fleet.floorMark(System.nanoTime(), scenario);
        long cpu0 = serverCpuNanos();
        long t0 = System.nanoTime();
        floor.send(work);
        await(Duration.ofMinutes(20), () -> {
            try {
                return fleet.floorDone() == n;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Figures f = figures("floor " + scenario, fleet.lastAcks(), t0, serverCpuNanos() - cpu0, fleet.bytes());
        System.out.println("n=" + n + ": " + f.row());
        return f;
    }

    static Figures figures(String name, long[] acks, long t0, long cpuNanos, long bytes) {
        long[] latencies = Arrays.stream(acks).filter(v -> v > 0).map(v -> v - t0).sorted().toArray();
        return new Figures(name, latencies.length, ms(pct(latencies, 50)), ms(pct(latencies, 99)),
                ms(latencies.length == 0 ? 0 : latencies[latencies.length - 1]), cpuNanos / 1_000_000, bytes);
    }

    /**
     * Every proxy ACKed the configuration in force; or, when some proxies NACKed once on purpose, every proxy that
     * has not is converged and the others wait on their own NACK of the version in force
     * ({@link ProxyConfigCache#waitingOnItsNack}: the server does not resend a NACKed version, as Envoy keeps its last
     * good configuration until a new one comes).
     * Bounded by {@code -Dfleet.settleSeconds} (default the larger of 60 s and N/50 s): a proxy the server leaves unconverged for good is
     * reported (a finding, not a benchmark failure), not waited for again, and the run goes on with the ACKs it has.
     */
    static void awaitSettled(ControlPlane cp, FleetClients.Fleet fleet, Duration max) throws InterruptedException {
        Duration bound = Duration.ofSeconds(Integer.getInteger("fleet.settleSeconds", Math.max(60, fleet.size() / 50)));
        int[] polls = {0};
        try {
            await(bound.compareTo(max) < 0 ? bound : max, () -> {
                if (cp.core().cache().allInSync()) {
                    return true;
                }
                if (polls[0]++ % 10 != 9) {
                    return false;
                }
                // Excused: proxies the server will send nothing more (they NACKed the version in force), not those
                // that still hold a NACK of an older version while the new one is on its way (their ACKs would land
                // in the next scenario's count).
                ProxyConfigCache cache = cp.core().cache();
                return cache.status().stream()
                        .allMatch(s -> s.inSync() || STUCK.contains(s.nodeId()) || cache.waitingOnItsNack(s.nodeId()));
            });
        } catch (IllegalStateException timedOut) {
            Set<String> standing;
            try {
                standing = fleet.standingNacks();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            List<String> stuck = cp.core().cache().status().stream().filter(s -> !s.inSync() && !standing.contains(s.nodeId()))
                    .map(s -> s.nodeId()).toList();
            STUCK.addAll(stuck); // later waits do not wait for them again
            unsettled += stuck.size();
            System.out.printf("WARNING: %d proxies not converged %d s after the change, and not for a NACK of theirs: %s%n",
                    stuck.size(), bound.toSeconds(), stuck.size() > 10 ? stuck.subList(0, 10) + "..." : stuck);
        }
    }

    /** Proxies found unconverged at a settle bound during this run (see {@link #awaitSettled}). */
    static int unsettled;
    static final Set<String> STUCK = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static boolean secretsAcked(ControlPlane cp, int n) {
        Map<String, List<String>> acked = cp.core().cache().secretsAcked();
        return acked.size() == n && acked.values().stream().allMatch(v -> !v.isEmpty() && v.stream().allMatch(Objects::nonNull));
    }

    /** K runs of N, each in a fresh JVM; prints the median, min and max of each figure; returns the median line. */
    static String repeat(int n, int runs) throws Exception {
        double[] load0 = loadAverage();
        List<Map<String, Double>> results = new ArrayList<>();
        String java = ProcessHandle.current().info().command().orElse("java");
        for (int i = 1; i <= runs; i++) {
            List<String> command = new ArrayList<>(List.of(java));
            command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), FleetBenchmark.class.getName(), String.valueOf(n)));
            Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String summary = null;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    if (line.startsWith("fleet N=")) {
                        summary = line;
                        System.out.println("run " + i + "/" + runs + ": " + line);
                    } else {
                        System.out.println(line);
                    }
                }
            }
            if (p.waitFor() != 0 || summary == null) {
                throw new IllegalStateException("run " + i + " of N=" + n + " failed (exit " + p.exitValue() + ")");
            }
            results.add(parse(summary));
        }
        double[] load1 = loadAverage();
        System.out.println();
        System.out.printf("N=%d, %d runs: median (min-max)%n", n, runs);
        System.out.println("| figure | median | min | max |");
        System.out.println("|---|---|---|---|");
        Map<String, Double> medians = new LinkedHashMap<>();
        for (String figure : FIGURES) {
            double[] v = results.stream().mapToDouble(r -> r.get(figure)).sorted().toArray();
            double median = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
            medians.put(figure, median);
            System.out.printf(Locale.ROOT, "| %s | %s | %s | %s |%n", figure, num(median), num(v[0]), num(v[v.length - 1]));
        }
        System.out.printf(Locale.ROOT, "load average (1/5/15 min): start %.2f %.2f %.2f, end %.2f %.2f %.2f%n",
                load0[0], load0[1], load0[2], load1[0], load1[1], load1[2]);
        return String.format(Locale.ROOT,
                "fleet N=%d added-p99=%s edited-p99=%s churn-p99=%s flip-p99=%s storm=%s flip-floor-ratio=%.2f rss-per-proxy-kb=%.1f",
                n, num(medians.get("added-p99")), num(medians.get("edited-p99")), num(medians.get("churn-p99")),
                num(medians.get("flip-p99")), num(medians.get("storm")), medians.get("flip-floor-ratio"), medians.get("rss-per-proxy-kb"));
    }

    /** The figures of a summary line. */
    static Map<String, Double> parse(String summary) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String word : summary.trim().split(" ")) {
            int eq = word.indexOf('=');
            if (eq > 0) {
                out.put(word.substring(0, eq), Double.parseDouble(word.substring(eq + 1)));
            }
        }
        return out;
    }

    static String num(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.2f", v);
    }

    static double[] loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return new double[] {Double.parseDouble(parts[0]), Double.parseDouble(parts[1]), Double.parseDouble(parts[2])};
        } catch (IOException | RuntimeException e) {
            double one = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
            return new double[] {one, one, one};
        }
    }

    /** Resident, heap and direct memory of this JVM in KB, after a GC. */
    static long[] serverMemory() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        return new long[] {FleetClients.rssKb(), heap >> 10, FleetClients.directBytes() >> 10};
    }

    static long serverCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    static long pct(long[] sorted, int p) {
        if (sorted.length == 0) {
            return 0;
        }
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    static String kb(long bytes) {
        return String.format(Locale.ROOT, "%.0f", bytes / 1024.0);
    }

    static void await(Duration max, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("condition not met within " + max);
            }
            Thread.sleep(20);
        }
    }

    /** A new pod of app-0 (its Service is called by every proxy once defaultAction is Allow). */
    static String extraPodYaml() {
        return """
                apiVersion: septa.dev/v1alpha1
                kind: Workload
                metadata: {name: app-0-churn, namespace: bench, labels: {app: app-0}}
                spec: {serviceAccount: app-0, address: 127.250.250.250, ports: [{name: grpc, port: 8080, protocol: GRPC}]}
                ---
                """;
    }

    static String workload(int i, int apps) {
        return "app-" + (i % apps) + "-" + (i / apps);
    }

    static String meshYaml(String defaultAction) {
        return """
                apiVersion: septa.dev/v1alpha1
                kind: MeshConfig
                metadata: {name: mesh}
                spec: {trustDomain: cluster.local, defaultAction: %s, mtls: Strict, certificateTTL: 1h}
                """.formatted(defaultAction);
    }

    static String segmentsYaml(int apps) {
        return segmentsYaml(apps, -1);
    }

    /**
     * One Segment per app. With {@code egress >= 0} each app's Segment scopes its egress (decision 0008) to the Services
     * of the next {@code egress} apps, and apps 1 to 100 also name app-0: under {@code defaultAction: Allow} a proxy is
     * then routed to about {@code egress + 1} Services, and app-0 (the churn scenario's Service) is called by the 1,000
     * proxies of those 100 apps at every N >= 1,010 (by all but app-0's own below that). {@code egress < 0}: no
     * {@code egress}, every proxy is routed to every Service.
     */
    static String segmentsYaml(int apps, int egress) {
        StringBuilder y = new StringBuilder();
        for (int a = 0; a < apps; a++) {
            y.append("""
                    apiVersion: septa.dev/v1alpha1
                    kind: Segment
                    metadata: {name: app-%d, namespace: bench}
                    spec:
                      selector: {matchLabels: {app: app-%d}}
                    """.formatted(a, a));
            if (egress >= 0) {
                TreeSet<Integer> callees = new TreeSet<>();
                for (int k = 1; k <= egress && k < apps; k++) {
                    callees.add((a + k) % apps);
                }
                if (a >= 1 && a <= 100) {
                    callees.add(0);
                }
                y.append("  egress: [");
                y.append(String.join(", ", callees.stream().map(c -> "{segment: app-" + c + "}").toList()));
                y.append("]\n");
            }
            y.append("---\n");
        }
        return y.toString();
    }

    /** {@code -Dfleet.egress}: {@code all} (no scoping, every proxy gets every Service) or the number of next apps (10). */
    static int egress() {
        String v = System.getProperty("fleet.egress", "10");
        return v.equals("all") ? -1 : Integer.parseInt(v);
    }

    static String intentYaml(String name, int from, int to) {
        return """
                apiVersion: septa.dev/v1alpha1
                kind: Intent
                metadata: {name: %s, namespace: bench}
                spec:
                  action: Allow
                  from: [{segment: app-%d}]
                  to: {segment: app-%d, ports: [{port: 8080, protocol: GRPC}]}
                ---
                """.formatted(name, from, to);
    }

    static String chainYaml(int apps) {
        StringBuilder y = new StringBuilder();
        for (int a = 0; a + 1 < apps; a++) {
            y.append(intentYaml("app-" + a + "-to-" + (a + 1), a, a + 1));
        }
        return y.toString();
    }

    static String inventoryYaml(int n, int apps) {
        StringBuilder y = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int app = i % apps;
            y.append("""
                    apiVersion: septa.dev/v1alpha1
                    kind: Workload
                    metadata: {name: %s, namespace: bench, labels: {app: app-%d}}
                    spec: {serviceAccount: app-%d, address: 127.%d.%d.%d, ports: [{name: grpc, port: 8080, protocol: GRPC}]}
                    ---
                    """.formatted(workload(i, apps), app, app, 10 + i / 62500, (i / 250) % 250, i % 250 + 1));
        }
        for (int a = 0; a < apps; a++) {
            y.append("""
                    apiVersion: septa.dev/v1alpha1
                    kind: Service
                    metadata: {name: app-%d, namespace: bench}
                    spec: {selector: {app: app-%d}, ports: [{name: grpc, port: 8080, protocol: GRPC}]}
                    ---
                    """.formatted(a, a));
        }
        return y.toString();
    }

}
