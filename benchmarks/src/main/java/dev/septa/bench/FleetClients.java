package dev.septa.bench;

import dev.septa.controlplane.ControlPlane;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The simulated Envoy fleet of {@link FleetBenchmark}, either in the benchmark's JVM or (by default) in a JVM of its
 * own. As a main class it is that second JVM: it connects the clients, then answers a line protocol on stdin/stdout
 * ({@code mark T} resets every client's "last ACK after T"; {@code acks} prints those times; {@code stop}).
 */
public final class FleetClients {
    private FleetClients() { }

    /** The fleet as the benchmark drives it. */
    interface Fleet extends AutoCloseable {
        void awaitSynced() throws Exception;

        /** From now on, each client records the time of its last ACK after {@code t0} (a {@code System.nanoTime}). */
        void mark(long t0) throws Exception;

        /** Each client's last ACK time since the mark, 0 when it ACKed nothing since. */
        List<Long> lastAcks() throws Exception;

        String describe();

        /** CPU time the clients have used so far, or -1 when they run in the benchmark's JVM. */
        long cpuNanos();

        @Override
        void close() throws Exception;
    }

    static List<FleetBenchmark.SimClient> connect(int port, String bundle, List<String> nodes, List<String> tokens,
                                                  List<ManagedChannel> channels) throws IOException {
        List<FleetBenchmark.SimClient> clients = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (i % FleetBenchmark.STREAMS_PER_CHANNEL == 0) {
                channels.add(Grpc.newChannelBuilderForAddress("localhost", port, TlsChannelCredentials.newBuilder()
                        .trustManager(new ByteArrayInputStream(bundle.getBytes(StandardCharsets.US_ASCII))).build()).build());
            }
            clients.add(new FleetBenchmark.SimClient(channels.getLast(), nodes.get(i), tokens.get(i)));
        }
        clients.forEach(FleetBenchmark.SimClient::start);
        return clients;
    }

    static List<String> nodes(int n, int apps) {
        List<String> nodes = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            nodes.add("bench/" + FleetBenchmark.workload(i, apps));
        }
        return nodes;
    }

    /** Clients in the benchmark's own JVM: they share its heap (counted in heap/client) and its garbage collector. */
    static final class InProcessFleet implements Fleet {
        private final List<ManagedChannel> channels = new ArrayList<>();
        private final List<FleetBenchmark.SimClient> clients;

        private InProcessFleet(ControlPlane cp, String bundle, int n, int apps) throws IOException {
            List<String> nodes = nodes(n, apps);
            List<String> tokens = nodes.stream().map(node -> cp.core().nodeTokens().mint(node)).toList();
            clients = connect(cp.xdsPort(), bundle, nodes, tokens, channels);
        }

        static Fleet start(ControlPlane cp, String bundle, int n, int apps) throws IOException {
            return new InProcessFleet(cp, bundle, n, apps);
        }

        @Override
        public void awaitSynced() throws Exception {
            FleetBenchmark.await(Duration.ofMinutes(10), () -> clients.stream().allMatch(FleetBenchmark.SimClient::synced));
        }

        @Override
        public void mark(long t0) {
            clients.forEach(c -> c.since(t0));
        }

        @Override
        public List<Long> lastAcks() {
            return clients.stream().map(FleetBenchmark.SimClient::lastAckAfter).toList();
        }

        @Override
        public String describe() {
            return "clients in this JVM";
        }

        @Override
        public long cpuNanos() {
            return -1;
        }

        @Override
        public void close() {
            clients.forEach(FleetBenchmark.SimClient::stop);
            channels.forEach(ManagedChannel::shutdownNow);
        }
    }

    /** Clients in a child JVM, driven over its stdin/stdout. */
    static final class ForkedFleet implements Fleet {
        private final Process process;
        private final BufferedReader out;
        private final PrintStream in;

        private ForkedFleet(Process process) {
            this.process = process;
            this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            this.in = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8);
        }

        static Fleet start(ControlPlane cp, Path dir, String bundle, int n, int apps) throws IOException {
            List<String> nodes = nodes(n, apps);
            StringBuilder tokens = new StringBuilder();
            for (String node : nodes) {
                tokens.append(node).append(' ').append(cp.core().nodeTokens().mint(node)).append('\n');
            }
            Path tokenFile = Files.writeString(dir.resolve("tokens.txt"), tokens);
            Path bundleFile = Files.writeString(dir.resolve("bundle.pem"), bundle);
            String java = ProcessHandle.current().info().command().orElse("java");
            List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                    "-Xmx" + System.getProperty("fleet.clientXmx", "4g"), "-cp", System.getProperty("java.class.path"),
                    FleetClients.class.getName(), String.valueOf(cp.xdsPort()), bundleFile.toString(), tokenFile.toString()));
            Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            return new ForkedFleet(p);
        }

        private String expect(String prefix) throws IOException, InterruptedException {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith(prefix)) {
                    return line.substring(prefix.length()).trim();
                }
            }
            throw new IOException("the client JVM ended (exit " + process.waitFor(Duration.ofSeconds(5)) + ") before '" + prefix + "'");
        }

        @Override
        public void awaitSynced() throws Exception {
            expect("synced");
        }

        @Override
        public void mark(long t0) throws Exception {
            in.println("mark " + t0);
            expect("marked");
        }

        @Override
        public List<Long> lastAcks() throws Exception {
            in.println("acks");
            String line = expect("acks");
            return line.isEmpty() ? List.of() : Arrays.stream(line.split(",")).map(Long::parseLong).toList();
        }

        @Override
        public String describe() {
            return "clients in JVM " + process.pid();
        }

        @Override
        public long cpuNanos() {
            return process.info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(-1L);
        }

        @Override
        public void close() throws Exception {
            in.println("stop");
            if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
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
        List<ManagedChannel> channels = new ArrayList<>();
        List<FleetBenchmark.SimClient> clients = connect(port, bundle, nodes, tokens, channels);
        FleetBenchmark.await(Duration.ofMinutes(10), () -> clients.stream().allMatch(FleetBenchmark.SimClient::synced));
        protocol.println("synced");
        protocol.flush();
        BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String command;
        while ((command = commands.readLine()) != null && !command.equals("stop")) {
            if (command.startsWith("mark ")) {
                long t0 = Long.parseLong(command.substring(5).trim());
                clients.forEach(c -> c.since(t0));
                protocol.println("marked");
            } else if (command.equals("acks")) {
                StringBuilder acks = new StringBuilder("acks ");
                for (int i = 0; i < clients.size(); i++) {
                    acks.append(i == 0 ? "" : ",").append(clients.get(i).lastAckAfter());
                }
                protocol.println(acks);
            }
            protocol.flush();
        }
        clients.forEach(FleetBenchmark.SimClient::stop);
        channels.forEach(ManagedChannel::shutdownNow);
        System.exit(0);
    }
}
