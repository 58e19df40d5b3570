package dev.septa.controlplane.kubernetes;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A loopback stand-in for the Service in front of the replicas, one per workload: each new connection goes to the
 * first replica in {@code order} that accepts it (the workload's home replica first), and lives as long as both
 * ends do. Connections per replica are counted.
 */
final class ReplicaServiceAddress implements AutoCloseable {
    final String name;
    final Map<String, AtomicLong> connections = new ConcurrentHashMap<>();
    private final List<KubernetesHighAvailabilityTest.Replica> order;
    private final ServerSocket listener;
    private final List<Socket> open = new CopyOnWriteArrayList<>();

    ReplicaServiceAddress(String name, List<KubernetesHighAvailabilityTest.Replica> order) throws IOException {
        this.name = name;
        this.order = order;
        this.listener = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(this::acceptLoop);
    }

    int port() {
        return listener.getLocalPort();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket downstream = listener.accept();
                Thread.ofVirtual().start(() -> forward(downstream));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void forward(Socket downstream) {
        open.add(downstream);
        for (var replica : order) {
            var upstream = new Socket();
            try {
                upstream.connect(new InetSocketAddress("127.0.0.1", replica.core().xdsPort()), 1_000);
            } catch (IOException | RuntimeException refused) {
                closeQuietly(upstream);
                continue;
            }
            open.add(upstream);
            connections.computeIfAbsent(replica.id(), r -> new AtomicLong()).incrementAndGet();
            Thread.ofVirtual().start(() -> pipe(upstream, downstream));
            pipe(downstream, upstream);
            return;
        }
        closeQuietly(downstream);
    }

    /** Copies until either side ends, then closes both (a reset replica resets the workload's connection). */
    private void pipe(Socket from, Socket to) {
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            in.transferTo(out);
        } catch (IOException e) {
            // one side ended
        } finally {
            closeQuietly(from);
            closeQuietly(to);
            open.remove(from);
            open.remove(to);
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException e) {
            // closing anyway
        }
        open.forEach(ReplicaServiceAddress::closeQuietly);
    }
}
