package dev.septa.bench;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The simulated Envoy fleet of {@link FleetBenchmark}, in a JVM of its own so that its heap, garbage collection and
 * CPU are not counted as the server's. Each proxy ({@link FleetProxy}) has its own TLS connection; all share one
 * Netty event loop group ({@code -Dfleet.clientThreads}, default 2), one TLS context, a 256 KB HTTP/2 window and
 * callbacks on the event loop (no executor hop), so 10,000 connections fit in a few GB.
 *
 * <p>As a main class ({@code FleetClients PORT BUNDLE_FILE TOKEN_FILE}) it connects the proxies, prints {@code synced}
 * once every proxy has its full configuration, then answers a line protocol on stdin/stdout: {@code mark T S}
 * (record ACKs, bytes and responses after T, capturing what arrives as scenario S for the floor, or {@code -}),
 * {@code acks}, {@code stats}, {@code nacks}, {@code dump DIR}, {@code floor T S} (mark, expecting S's responses
 * again), {@code floordone}, {@code memory}, {@code stop}.
 */
public final class FleetClients {
    private FleetClients() { }

    /** The fleet as the benchmark drives it: a child JVM, over its stdin/stdout. */
    static final class Fleet implements AutoCloseable {
        private final Process process;
        private final BufferedReader out;
        private final PrintStream in;
        private final int size;

        private Fleet(Process process, int size) {
            this.process = process;
            this.size = size;
            this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            this.in = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8);
        }

        static Fleet start(int port, Path dir, String bundle, List<String> nodes, List<String> tokens) throws IOException {
            StringBuilder lines = new StringBuilder();
            for (int i = 0; i < nodes.size(); i++) {
                lines.append(nodes.get(i)).append(' ').append(tokens.get(i)).append('\n');
            }
            Path tokenFile = Files.writeString(dir.resolve("tokens.txt"), lines);
            Path bundleFile = Files.writeString(dir.resolve("bundle.pem"), bundle);
            String java = ProcessHandle.current().info().command().orElse("java");
            List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                    "--sun-misc-unsafe-memory-access=allow", "-Xmx" + System.getProperty("fleet.clientXmx", "3g"),
                    "-XX:+UseSerialGC"));
            for (String p : List.of("fleet.kinds", "fleet.nackShare", "fleet.clientThreads")) {
                if (System.getProperty(p) != null) {
                    command.add("-D" + p + "=" + System.getProperty(p));
                }
            }
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), FleetClients.class.getName(),
                    String.valueOf(port), bundleFile.toString(), tokenFile.toString()));
            Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            return new Fleet(p, nodes.size());
        }

        /** How many proxies the fleet has. */
        int size() {
            return size;
        }

        private String ask(String command, String answer) throws IOException, InterruptedException {
            if (command != null) {
                in.println(command);
            }
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith(answer)) {
                    return line.substring(answer.length()).trim();
                }
            }
            throw new IOException("the client JVM ended (exit " + process.waitFor(Duration.ofSeconds(5)) + ") before '" + answer + "'");
        }

        void awaitSynced() throws Exception {
            ask(null, "synced");
        }

        /** From now on each proxy records its last ACK, bytes and responses after t0; captured as {@code scenario}. */
        void mark(long t0, String scenario) throws Exception {
            ask("mark " + t0 + " " + scenario, "marked");
        }

        /** Each proxy's last ACK time since the mark, 0 when it ACKed nothing since. */
        long[] lastAcks() throws Exception {
            String line = ask("acks", "acks");
            return line.isEmpty() ? new long[0] : Arrays.stream(line.split(",")).mapToLong(Long::parseLong).toArray();
        }

        /** Bytes of responses received since the mark, over the whole fleet. */
        long bytes() throws Exception {
            return Long.parseLong(ask("stats", "stats").split(" ")[0]);
        }

        /** Node ids whose last response of some type was NACKed and not replaced since. */
        Set<String> standingNacks() throws Exception {
            String line = ask("nacks", "nacks");
            return line.isEmpty() ? Set.of() : new HashSet<>(Arrays.asList(line.split(",")));
        }

        void dump(Path dir) throws Exception {
            ask("dump " + dir, "dumped");
        }

        void floorMark(long t0, String scenario) throws Exception {
            ask("floor " + t0 + " " + scenario, "marked");
        }

        int floorDone() throws Exception {
            return Integer.parseInt(ask("floordone", "floordone"));
        }

        /** "rssKb heapKb directKb" of the client JVM after a GC. */
        long[] memory() throws Exception {
            return Arrays.stream(ask("memory", "memory").split(" ")).mapToLong(Long::parseLong).toArray();
        }

        long pid() {
            return process.pid();
        }

        long cpuNanos() {
            return process.info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
        }

        @Override
        public void close() throws Exception {
            in.println("stop");
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    /** What the proxies received after each mark, for the floor: distinct payloads (without nonce) and per-proxy order. */
    static final class Capture implements FleetProxy.Recorder {
        final Map<Long, byte[]> payloads = new ConcurrentHashMap<>();
        final Map<String, List<List<Long>>> plans = new ConcurrentHashMap<>();
        volatile List<List<Long>> current;

        void begin(String scenario, int n) {
            if (scenario.equals("-")) {
                current = null;
                return;
            }
            List<List<Long>> plan = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                plan.add(new ArrayList<>());
            }
            plans.put(scenario, plan);
            current = plan;
        }

        @Override
        public void received(FleetProxy proxy, FleetWire.Response response) {
            List<List<Long>> plan = current;
            if (plan == null) {
                return;
            }
            long key = response.contentKey();
            payloads.computeIfAbsent(key, k -> response.withoutNonce());
            plan.get(proxy.index).add(key); // each proxy adds under its own lock
        }

        void dump(Path dir, List<FleetProxy> proxies) throws IOException {
            Files.createDirectories(dir);
            for (Map.Entry<Long, byte[]> e : payloads.entrySet()) {
                Files.write(dir.resolve("payload-" + Long.toHexString(e.getKey()) + ".bin"), e.getValue());
            }
            for (Map.Entry<String, List<List<Long>>> e : plans.entrySet()) {
                StringBuilder s = new StringBuilder();
                for (int i = 0; i < e.getValue().size(); i++) {
                    List<Long> keys = e.getValue().get(i);
                    s.append(proxies.get(i).node).append(' ').append(proxies.get(i).kind).append(' ');
                    s.append(String.join(",", keys.stream().map(Long::toHexString).toList())).append('\n');
                }
                Files.writeString(dir.resolve("plan-" + e.getKey() + ".txt"), s);
            }
        }
    }

    static FleetProxy.Kind kind(int i) {
        return switch (System.getProperty("fleet.kinds", "mixed")) {
            case "sotw" -> FleetProxy.Kind.SOTW;
            case "delta" -> FleetProxy.Kind.DELTA;
            case "mixed" -> i % 2 == 0 ? FleetProxy.Kind.SOTW : FleetProxy.Kind.DELTA;
            default -> throw new IllegalArgumentException("fleet.kinds must be mixed, sotw or delta");
        };
    }

    /** Proxy i NACKs once when a per-index pseudo-random draw falls below the share (so both kinds get some). */
    static boolean nacks(int i) {
        double share = Double.parseDouble(System.getProperty("fleet.nackShare", "0.01"));
        return new SplittableRandom(i * 0x9E3779B97F4A7C15L).nextDouble() < share;
    }

    static long rssKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }

    /** Direct buffers: the JDK's pool plus what grpc's shaded Netty allocates outside it. */
    static long directBytes() {
        long jdk = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
        long netty = 0;
        try {
            netty = (long) Class.forName("io.grpc.netty.shaded.io.netty.util.internal.PlatformDependent")
                    .getMethod("usedDirectMemory").invoke(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            netty = 0;
        }
        return jdk + Math.max(0, netty);
    }

    /** The client JVM: {@code FleetClients PORT BUNDLE_FILE TOKEN_FILE}. */
    public static void main(String[] args) throws Exception {
        PrintStream protocol = System.out;
        System.setOut(System.err); // only the protocol on stdout
        int port = Integer.parseInt(args[0]);
        String bundle = Files.readString(Path.of(args[1]));
        List<String> nodes = new ArrayList<>();
        List<String> tokens = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(args[2]))) {
            if (!line.isBlank()) {
                String[] parts = line.split(" ", 2);
                nodes.add(parts[0]);
                tokens.add(parts[1]);
            }
        }
        int threads = Integer.getInteger("fleet.clientThreads", 2);
        EventLoopGroup group = new NioEventLoopGroup(threads, Thread.ofPlatform().daemon().name("fleet-io-", 0).factory());
        ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().factory());
        SslContext tls = GrpcSslContexts.forClient()
                .trustManager(new ByteArrayInputStream(bundle.getBytes(StandardCharsets.US_ASCII))).build();
        Capture capture = new Capture();
        List<FleetProxy> proxies = new ArrayList<>(nodes.size());
        for (int i = 0; i < nodes.size(); i++) {
            ManagedChannel channel = NettyChannelBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
                    .overrideAuthority("localhost")
                    .sslContext(tls)
                    .eventLoopGroup(group)
                    .channelType(NioSocketChannel.class)
                    .directExecutor()
                    .flowControlWindow(256 * 1024)
                    .maxInboundMessageSize(64 * 1024 * 1024)
                    .build();
            proxies.add(new FleetProxy(i, channel, nodes.get(i), tokens.get(i), kind(i), nacks(i), retries, capture));
        }
        // Connect in waves so that 10,000 TLS handshakes do not all time out at once on two cores.
        for (int i = 0; i < proxies.size(); i++) {
            proxies.get(i).start();
            if (i % 200 == 199) {
                int upTo = i;
                FleetBenchmark.await(Duration.ofMinutes(5), () -> proxies.get(upTo - 100).isFull());
            }
        }
        FleetBenchmark.await(Duration.ofMinutes(20), () -> proxies.stream().allMatch(FleetProxy::isFull));
        protocol.println("synced");
        protocol.flush();
        int[] expected = new int[proxies.size()];
        BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String command;
        while ((command = commands.readLine()) != null && !command.equals("stop")) {
            String[] words = command.split(" ");
            switch (words[0]) {
                case "mark" -> {
                    capture.begin(words[2], proxies.size());
                    long t0 = Long.parseLong(words[1]);
                    proxies.forEach(p -> p.since(t0));
                    protocol.println("marked");
                }
                case "floor" -> {
                    capture.begin("-", proxies.size());
                    List<List<Long>> plan = capture.plans.get(words[2]);
                    for (int i = 0; i < expected.length; i++) {
                        expected[i] = plan == null ? 0 : plan.get(i).size();
                    }
                    long t0 = Long.parseLong(words[1]);
                    proxies.forEach(p -> p.since(t0));
                    protocol.println("marked");
                }
                case "floordone" -> {
                    int done = 0;
                    for (int i = 0; i < expected.length; i++) {
                        done += proxies.get(i).responsesAfter() >= expected[i] ? 1 : 0;
                    }
                    protocol.println("floordone " + done);
                }
                case "acks" -> {
                    StringBuilder acks = new StringBuilder("acks ");
                    for (int i = 0; i < proxies.size(); i++) {
                        acks.append(i == 0 ? "" : ",").append(proxies.get(i).lastAckAfter());
                    }
                    protocol.println(acks);
                }
                case "stats" -> protocol.println("stats " + proxies.stream().mapToLong(FleetProxy::bytesAfter).sum());
                case "nacks" -> protocol.println("nacks " + String.join(",",
                        proxies.stream().filter(p -> p.standingNack() != null).map(p -> p.node).toList()));
                case "dump" -> {
                    capture.dump(Path.of(words[1]), proxies);
                    protocol.println("dumped");
                }
                case "memory" -> {
                    for (int i = 0; i < 3; i++) {
                        System.gc();
                        Thread.sleep(200);
                    }
                    long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
                    protocol.println("memory " + rssKb() + " " + (heap >> 10) + " " + (directBytes() >> 10));
                }
                default -> protocol.println("unknown " + command);
            }
            protocol.flush();
        }
        proxies.forEach(FleetProxy::stop);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        System.exit(0);
    }
}
