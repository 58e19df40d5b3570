package dev.septa.sidecar.relay;

import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The agent's local xDS endpoint for proxyless workloads in any gRPC language (Istio's agent does the same): plaintext
 * ADS on a Unix domain socket (and optionally loopback TCP), relayed to the control plane over mTLS with the agent's
 * credentials ({@link UpstreamCredentials}), every workload stream multiplexed on one upstream channel
 * ({@link UpstreamChannel}). A workload's bootstrap then needs only {@code channel_creds: insecure},
 * which every gRPC implementation reads, where gRFC A65 {@code tls} is missing in grpc-java 1.85 and C-core before 1.65.
 *
 * <p>Security: the relay serves one node ({@link RelayedStream} refuses any other node id with PERMISSION_DENIED) and
 * never relays secrets (SDS types are refused): whoever can open the socket learns this node's policy, not its key.
 * The socket is created owner-only (0600) in the agent's directory, beside {@code key.pem}.
 */
public final class XdsRelay implements AutoCloseable {
    /** What the relay reports; the CLI logs it, tests wait on it. */
    public interface Listener {
        default void upstreamConnected(String authentication) {
        }

        default void upstreamLost(String reason) {
        }

        default void refused(String reason) {
        }
    }

    private final String nodeId;
    private final UpstreamCredentials credentials;
    private final Listener listener;
    private final ScheduledExecutorService scheduler;
    private final UpstreamChannel upstream;
    private final List<Server> servers = new ArrayList<>();
    private final List<EventLoopGroup> groups = new ArrayList<>();
    private Path socket;
    private volatile boolean closed;

    public XdsRelay(String nodeId, UpstreamCredentials credentials, Listener listener) {
        this.nodeId = nodeId;
        this.credentials = credentials;
        this.listener = listener;
        this.upstream = new UpstreamChannel(credentials);
        this.scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "septa-relay-" + nodeId);
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Serves on {@code socket} (a stale socket file is replaced) and, when given, on a loopback TCP address. */
    public XdsRelay start(Path socket, Optional<InetSocketAddress> tcp) throws IOException {
        if (socket != null) {
            if (!Epoll.isAvailable()) {
                throw new IOException("Unix domain sockets need netty's native epoll transport, unavailable here: "
                        + Epoll.unavailabilityCause() + " (use the loopback TCP relay instead)");
            }
            Path absolute = socket.toAbsolutePath();
            Files.deleteIfExists(absolute);
            var boss = new EpollEventLoopGroup(1);
            var workers = new EpollEventLoopGroup(1);
            groups.add(boss);
            groups.add(workers);
            servers.add(NettyServerBuilder.forAddress(new DomainSocketAddress(absolute.toString()))
                    .channelType(EpollServerDomainSocketChannel.class).bossEventLoopGroup(boss).workerEventLoopGroup(workers)
                    .addService(new Service()).build().start());
            Files.setPosixFilePermissions(absolute, PosixFilePermissions.fromString("rw-------"));
            this.socket = absolute;
        }
        if (tcp.isPresent()) {
            if (!tcp.get().getAddress().isLoopbackAddress()) {
                throw new IllegalArgumentException("the relay is plaintext: bind it to a loopback address, not " + tcp.get());
            }
            servers.add(NettyServerBuilder.forAddress(tcp.get(), InsecureServerCredentials.create()).addService(new Service()).build().start());
        }
        return this;
    }

    /** The socket path, for the bootstrap's {@code unix:} server URI. */
    public Path socket() {
        return socket;
    }

    /** The port of the loopback TCP endpoint (after binding port 0), or -1. */
    public int tcpPort() {
        return servers.stream().flatMap(s -> s.getListenSockets().stream()).filter(InetSocketAddress.class::isInstance)
                .mapToInt(a -> ((InetSocketAddress) a).getPort()).findFirst().orElse(-1);
    }

    String nodeId() {
        return nodeId;
    }

    UpstreamCredentials credentials() {
        return credentials;
    }

    UpstreamChannel upstream() {
        return upstream;
    }

    Listener listener() {
        return listener;
    }

    ScheduledExecutorService scheduler() {
        return scheduler;
    }

    /** Whether {@link #close()} began: streams ending then are the relay's own doing, not news. */
    boolean closed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
        for (Server server : servers) {
            server.shutdownNow();
        }
        for (Server server : servers) {
            try {
                server.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        groups.forEach(EventLoopGroup::shutdownGracefully);
        scheduler.shutdownNow();
        upstream.close();
        if (socket != null) {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                // best effort: the next start replaces a stale socket anyway
            }
        }
    }

    private final class Service extends AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase {
        @Override
        public StreamObserver<DiscoveryRequest> streamAggregatedResources(StreamObserver<DiscoveryResponse> downstream) {
            return new RelayedStream(XdsRelay.this, downstream).open();
        }
    }
}
