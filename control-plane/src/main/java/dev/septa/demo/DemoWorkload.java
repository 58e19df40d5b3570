package dev.septa.demo;

import dev.septa.sidecar.grpc.BytesMethods;
import dev.septa.sidecar.agent.CertificateBundle;
import dev.septa.sidecar.agent.SdsAgent;
import dev.septa.sidecar.bootstrap.CertificateFileLayout;
import dev.septa.sidecar.bootstrap.ControlPlaneEndpoint;
import dev.septa.sidecar.bootstrap.GrpcBootstrapGenerator;
import dev.septa.sidecar.bootstrap.ProxyNode;
import dev.septa.sidecar.grpc.FileTlsXdsCredentialsProvider;
import dev.septa.sidecar.relay.UpstreamCredentials;
import dev.septa.sidecar.relay.XdsRelay;
import dev.septa.sidecar.report.AccessLogReporter;
import dev.septa.sidecar.report.ReportingServerTracerFactory;
import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.xds.XdsChannelCredentials;
import io.grpc.xds.XdsServerBuilder;
import io.grpc.xds.XdsServerCredentials;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * One demo workload, run as its own JVM (grpc-xds reads one bootstrap per JVM, so one process is one xDS node):
 * its {@code septa agent} runs in-process, fetches the SVID and serves the xDS relay the workload's plaintext bootstrap
 * points at (no Septa class on grpc's xDS path; {@code --direct-tls} for the A65 shape); then an {@link XdsServerBuilder} server per port on
 * the workload's own loopback address answers any method, and the workload calls other services through
 * {@code xds:///NAME.NS:PORT} channels, printing each result (see {@link WorkloadEvents}).
 *
 * <p>Stdin is the lifeline: the workload exits when it reaches end of file, so it never outlives {@code septa demo}
 * (even one killed with SIGKILL). Lines {@code call ID TARGET PATH} ask for one call now (the e2e tests use this);
 * {@code plan TARGET=PATH...} replaces the periodic calls (after an intent edit); {@code plan} alone stops them.
 */
@Command(name = "demo-workload", mixinStandardHelpOptions = true, description = "A proxyless gRPC demo workload (used by septa demo).")
public final class DemoWorkload implements java.util.concurrent.Callable<Integer> {
    @Option(names = "--workload", required = true, description = "NS/NAME") String workload;
    @Option(names = "--service-account", defaultValue = "default") String serviceAccount;
    @Option(names = "--label", description = "KEY=VALUE, repeatable") Map<String, String> labels = new LinkedHashMap<>();
    @Option(names = "--address", required = true, description = "the loopback address to serve on, e.g. 127.0.1.3") String address;
    @Option(names = "--port", split = ",", description = "ports to serve") List<Integer> ports = new ArrayList<>();
    @Option(names = "--server", required = true, description = "control plane HOST:PORT") String server;
    @Option(names = "--trust-bundle", required = true, description = "PEM file verifying the control plane") Path trustBundle;
    @Option(names = "--token-file", required = true, description = "file holding the node token") Path tokenFile;
    @Option(names = "--dir", required = true, description = "where the agent keeps cert.pem, key.pem, ca.pem") Path dir;
    @Option(names = "--call", description = "TARGET=PATH to call periodically, e.g. catalog.shop:9090=/shop.Catalog/List") List<String> calls = new ArrayList<>();
    @Option(names = "--interval", defaultValue = "PT2S", description = "time between rounds of periodic calls (ISO-8601)") Duration interval;
    @Option(names = "--deadline", defaultValue = "PT20S") Duration deadline;
    @Option(names = "--direct-tls", description = "xDS straight to the control plane with A65 tls creds (Septa's provider) instead of the agent's relay") boolean directTls;

    private final PrintStream out = System.out;
    private AccessLogReporter reporter;
    private volatile java.time.Instant firstExpiry;
    private Duration maxConnectionAge = Duration.ofHours(1);
    private volatile RotatingChannels channels;

    public static void main(String[] args) {
        int code = new CommandLine(new DemoWorkload()).execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    @Override
    public Integer call() throws Exception {
        if (!directTls) {
            // The library-free path: grpc-xds reads the relayed bootstrap with no Septa credentials provider registered.
            System.setProperty(FileTlsXdsCredentialsProvider.DISABLED_PROPERTY, "true");
        }
        watchStdin();
        String[] id = workload.split("/", 2);
        if (id.length != 2) {
            System.err.println("--workload must be NS/NAME, got " + workload);
            return 2;
        }
        var node = new ProxyNode(id[0], id[1], labels, serviceAccount);
        var endpoint = ControlPlaneEndpoint.parse(server, Files.readString(trustBundle));
        var files = new CertificateFileLayout(dir);
        var agent = new SdsAgent(node, endpoint, this::token, files, new SdsAgent.Listener() {
            @Override
            public void connected(String authentication) {
                WorkloadEvents.emit(out, "agent", "connected with " + authentication);
            }

            @Override
            public void written(CertificateBundle bundle) {
                if (firstExpiry == null) {
                    firstExpiry = bundle.notAfter();
                }
                // When, by the workload's clock: beside a failed handshake it tells a late renewal from a missed one.
                WorkloadEvents.emit(out, "agent", "certificate written at " + java.time.Instant.now() + ", issued "
                        + bundle.leaf().getNotBefore().toInstant() + ", expires " + bundle.notAfter() + ", serial "
                        + bundle.leaf().getSerialNumber().toString(16));
            }

            @Override
            public void failed(String message) {
                WorkloadEvents.emit(out, "agent", message);
            }
        }).start();
        Runtime.getRuntime().addShutdownHook(new Thread(agent::close));
        if (!agent.awaitFirstWrite(Duration.ofSeconds(120))) {
            WorkloadEvents.emit(out, "error", "no certificate from the control plane after 120 s");
            return 3;
        }
        // TLS checks certificates only at the handshake, so connections must not outlive them. The client replaces its
        // channels four times per certificate lifetime (new handshakes with the current SVIDs on both sides); each
        // server ends a connection only past one whole lifetime, a backstop for clients that do not. Never the other
        // way round: a server's GOAWAY can fail a call that grpc-java's client starts at that instant (RotatingChannels).
        Duration lifetime = certificateLifetime(firstExpiry);
        maxConnectionAge = lifetime;
        channels = new RotatingChannels(t -> Grpc.newChannelBuilder("xds:///" + t,
                XdsChannelCredentials.create(InsecureChannelCredentials.create())).build(), Duration.ofSeconds(2))
                .every(clientRotation(lifetime));

        // Only now, with the files in place, may grpc read the bootstrap (file_watcher, and direct tls creds, load them
        // at once). By default the workload's xDS goes through the agent's relay with insecure creds: grpc-xds alone,
        // no Septa credentials provider involved (the path any gRPC implementation takes).
        String bootstrap;
        if (directTls) {
            bootstrap = new GrpcBootstrapGenerator().generate(node, endpoint, files);
        } else {
            var relay = new XdsRelay(node.id(), new UpstreamCredentials(endpoint, files, this::token), new XdsRelay.Listener() {
                @Override
                public void upstreamLost(String reason) {
                    WorkloadEvents.emit(out, "agent", "relay: " + reason);
                }

                @Override
                public void refused(String reason) {
                    WorkloadEvents.emit(out, "agent", "relay refused: " + reason);
                }
            }).start(dir.resolve("xds.sock"), Optional.empty());
            Runtime.getRuntime().addShutdownHook(new Thread(relay::close));
            bootstrap = new GrpcBootstrapGenerator().generateRelayed(node, GrpcBootstrapGenerator.unixUri(relay.socket()), files);
        }
        System.setProperty("io.grpc.xds.bootstrapConfig", bootstrap);
        // Every call this workload serves (allowed or refused by RBAC) goes to the control plane's traffic graph,
        // over the xDS port with the same SVID as the xDS channel.
        ManagedChannel reportChannel = Grpc.newChannelBuilderForAddress(endpoint.host(), endpoint.port(),
                FileTlsXdsCredentialsProvider.forFiles(files, Duration.ofSeconds(5))).build();
        reporter = new AccessLogReporter(reportChannel, AccessLogReporter.Settings.forWorkload(workload));
        List<Server> servers = new ArrayList<>();
        var serving = new java.util.concurrent.CountDownLatch(ports.size());
        for (int port : ports) {
            servers.add(startServer(port, serving));
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            reporter.close();
            reportChannel.shutdownNow();
            servers.forEach(Server::shutdownNow);
            channels.close();
        }));
        // Ready once every port serves (XdsServerBuilder binds only when its listener arrived), or after a minute
        // with whatever serves: a port without a listener stays visible as not serving.
        serving.await(60, TimeUnit.SECONDS);
        WorkloadEvents.emit(out, "ready", ports);
        periodicCalls();
        return 0;
    }

    /** The first certificate's remaining lifetime: between 4 s and 1 h. */
    static Duration certificateLifetime(java.time.Instant expiry) {
        Duration left = expiry == null ? Duration.ofHours(1) : Duration.between(java.time.Instant.now(), expiry);
        return left.compareTo(Duration.ofSeconds(4)) < 0 ? Duration.ofSeconds(4)
                : left.compareTo(Duration.ofHours(1)) > 0 ? Duration.ofHours(1) : left;
    }

    /** How often the client replaces its channels: a quarter of the certificate lifetime. */
    static Duration clientRotation(Duration lifetime) {
        return lifetime.dividedBy(4);
    }

    private Optional<String> token() {
        try {
            String token = Files.readString(tokenFile).strip();
            return token.isEmpty() ? Optional.empty() : Optional.of(token);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private Server startServer(int port, java.util.concurrent.CountDownLatch serving) throws IOException {
        var builder = XdsServerBuilder.forAddress(new InetSocketAddress(address, port),
                        XdsServerCredentials.create(InsecureServerCredentials.create()))
                .addStreamTracerFactory(new ReportingServerTracerFactory(reporter))
                // The backstop (see call()): a connection older than one certificate lifetime is ended gracefully.
                .maxConnectionAge(maxConnectionAge.toMillis(), TimeUnit.MILLISECONDS)
                .maxConnectionAgeGrace(deadline.toMillis(), TimeUnit.MILLISECONDS)
                .fallbackHandlerRegistry(new AnyMethodRegistry(workload,
                        (served, serial) -> WorkloadEvents.emit(out, "served", port, served, serial)))
                .xdsServingStatusListener(new XdsServerBuilder.XdsServingStatusListener() {
                    @Override
                    public void onServing() {
                        WorkloadEvents.emit(out, "serving", port, "true", "");
                        serving.countDown();
                    }

                    @Override
                    public void onNotServing(Throwable throwable) {
                        WorkloadEvents.emit(out, "serving", port, "false", String.valueOf(throwable.getMessage()));
                    }
                });
        // start() waits for the server listener; it must not hold up the other ports.
        Server server = builder.build();
        Thread.ofPlatform().daemon().name("start-" + port).start(() -> {
            try {
                server.start();
            } catch (IOException | RuntimeException e) {
                WorkloadEvents.emit(out, "serving", port, "false", "cannot start: " + e.getMessage());
            }
        });
        return server;
    }

    private volatile List<String[]> plan = List.of();

    private static List<String[]> parsePlan(List<String> calls) {
        return calls.stream().map(c -> c.split("=", 2)).filter(c -> c.length == 2).toList();
    }

    private void periodicCalls() throws InterruptedException {
        if (plan.isEmpty()) {
            plan = parsePlan(calls);
        }
        while (true) {
            for (String[] call : plan) {
                callOnce("-", call[0], call[1]);
            }
            Thread.sleep(interval.toMillis());
        }
    }

    /**
     * One asynchronous call (no thread waits, so a round of slow calls cannot pile up). A call to a service the
     * compiler scoped away fails at once (the control plane answers with a listener that routes nothing).
     */
    void callOnce(String requestId, String target, String path) {
        RotatingChannels current = channels;
        if (current == null) {
            WorkloadEvents.emit(out, "call", requestId, target, path, "UNAVAILABLE", "-", "-", 0, "not started yet");
            return;
        }
        ManagedChannel channel = current.get(target);
        String method = path.startsWith("/") ? path.substring(1) : path;
        long start = System.nanoTime();
        var call = channel.newCall(BytesMethods.unary(method),
                CallOptions.DEFAULT.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS));
        ClientCalls.asyncUnaryCall(call, new byte[0], new io.grpc.stub.StreamObserver<>() {
            private byte[] answer;

            @Override
            public void onNext(byte[] value) {
                answer = value;
            }

            @Override
            public void onError(Throwable error) {
                Status status = Status.fromThrowable(error);
                String detail = status.getDescription() == null ? "" : status.getDescription();
                Throwable cause = status.getCause();
                while (cause != null && cause.getCause() != null && cause.getCause() != cause) {
                    cause = cause.getCause();
                }
                if (cause != null) {
                    detail += " (" + cause + ")";
                }
                emit(status.getCode().name(), "-", "-", detail);
            }

            @Override
            public void onCompleted() {
                String[] parts = answer == null ? new String[] {"-"} : new String(answer, StandardCharsets.UTF_8).split(" ", 2);
                emit("OK", parts[0], parts.length > 1 ? parts[1] : "-", "");
            }

            private void emit(String code, String server, String caller, String detail) {
                long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                WorkloadEvents.emit(out, "call", requestId, target, path, code, server, caller, millis, detail);
            }
        });
    }

    /** Exits at end of stdin (the parent is gone); runs {@code call ID TARGET PATH} requests. */
    private void watchStdin() {
        Thread.ofPlatform().daemon().name("stdin").start(() -> {
            try (var reader = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    String[] words = line.trim().split("\\s+");
                    if (words.length == 4 && words[0].equals("call")) {
                        callOnce(words[1], words[2], words[3]);
                    } else if (words[0].equals("plan")) {
                        plan = parsePlan(List.of(words).subList(1, words.length));
                    } else if (words[0].equals("quit")) {
                        break;
                    }
                }
            } catch (IOException e) {
                // treated as end of input
            }
            System.exit(0);
        });
    }
}
