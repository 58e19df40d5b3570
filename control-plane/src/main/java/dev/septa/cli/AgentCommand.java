package dev.septa.cli;

import dev.septa.sidecar.agent.CertificateBundle;
import dev.septa.sidecar.agent.SdsAgent;
import dev.septa.sidecar.bootstrap.CertificateFileLayout;
import dev.septa.sidecar.bootstrap.ControlPlaneEndpoint;
import dev.septa.sidecar.bootstrap.ProxyNode;
import dev.septa.sidecar.relay.UpstreamCredentials;
import dev.septa.sidecar.relay.XdsRelay;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code septa agent}: keeps a proxyless workload's SVID and trust bundle on disk from the control plane's SDS, and
 * serves the workload's xDS relay ({@link XdsRelay}) on {@code DIR/xds.sock} unless {@code --once} or {@code --no-relay}.
 * Runs until interrupted. Exit 2 on bad input, 3 when {@code --once} and no certificate came.
 */
@Command(name = "agent", mixinStandardHelpOptions = true,
        description = {"Fetch this workload's SVID and trust bundle over SDS and keep DIR/cert.pem, DIR/key.pem and DIR/ca.pem fresh,",
                "and relay the workload's plaintext xDS on unix:DIR/xds.sock to the control plane over mTLS.",
                "Authenticates with a node token (from `septa bootstrap`) until it holds a certificate, then with the certificate."})
public final class AgentCommand implements Callable<Integer> {
    @Option(names = "--workload", required = true, paramLabel = "NS/NAME") String workload;
    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "where to write cert.pem, key.pem (0600) and ca.pem") Path dir;
    @Option(names = "--server", defaultValue = "127.0.0.1:15010", paramLabel = "HOST:PORT", description = "the control plane's xDS/SDS address (default ${DEFAULT-VALUE})") String server;
    @Option(names = "--token-file", paramLabel = "FILE", description = "file holding the node token; re-read on every reconnect") Path tokenFile;
    @Option(names = "--trust-bundle", paramLabel = "FILE", description = "PEM verifying the control plane (default: DIR/ca.pem, else STATE_DIR/ca/trust-bundle.pem)") Path trustBundle;
    @Option(names = "--state-dir", defaultValue = ".septa", paramLabel = "DIR", description = "the control plane's state directory, for its trust bundle (default ${DEFAULT-VALUE})") Path stateDir;
    @Option(names = "--once", description = "exit after the files are written once") boolean once;
    @Option(names = "--relay-socket", paramLabel = "FILE", description = "the local plaintext xDS relay's Unix socket (default DIR/xds.sock)") Path relaySocket;
    @Option(names = "--relay-tcp", paramLabel = "HOST:PORT", description = "also serve the relay on this loopback address (port 0: any free port, logged)") String relayTcp;
    @Option(names = "--no-relay", description = "do not serve the local xDS relay (workloads connect to the control plane themselves)") boolean noRelay;

    @Override
    public Integer call() throws Exception {
        String[] id = workload.split("/", 2);
        if (id.length != 2 || id[0].isBlank() || id[1].isBlank()) {
            System.err.println("septa agent: --workload must be NS/NAME, got '" + workload + "'");
            return 2;
        }
        ControlPlaneEndpoint endpoint;
        try {
            endpoint = ControlPlaneEndpoint.parse(server, readTrustBundle());
        } catch (IllegalArgumentException | IOException e) {
            System.err.println("septa agent: " + e.getMessage());
            return 2;
        }
        var written = new CountDownLatch(1);
        var agent = new SdsAgent(new ProxyNode(id[0], id[1], Map.of(), null), endpoint, this::token, new CertificateFileLayout(dir),
                new SdsAgent.Listener() {
                    @Override
                    public void connected(String authentication) {
                        log("connected to " + endpoint.authority() + " (authenticated by " + authentication + ")");
                    }

                    @Override
                    public void written(CertificateBundle bundle) {
                        log("wrote " + dir.resolve("cert.pem") + " (expires " + bundle.notAfter() + ")");
                        written.countDown();
                    }

                    @Override
                    public void failed(String message) {
                        log(message);
                    }
                }).start();
        Runtime.getRuntime().addShutdownHook(new Thread(agent::close));
        if (!once && !noRelay) {
            XdsRelay relay;
            try {
                relay = startRelay(id[0] + "/" + id[1], endpoint);
            } catch (IllegalArgumentException | IOException e) {
                System.err.println("septa agent: cannot serve the xDS relay: " + e.getMessage());
                agent.close();
                return 2;
            }
            Runtime.getRuntime().addShutdownHook(new Thread(relay::close));
        }
        if (once) {
            boolean ok = agent.awaitFirstWrite(java.time.Duration.ofSeconds(60));
            agent.close();
            return ok ? 0 : 3;
        }
        new CountDownLatch(1).await();
        return 0;
    }

    private XdsRelay startRelay(String nodeId, ControlPlaneEndpoint endpoint) throws IOException {
        Optional<InetSocketAddress> tcp = Optional.empty();
        if (relayTcp != null) {
            int colon = relayTcp.lastIndexOf(':');
            try {
                tcp = Optional.of(new InetSocketAddress(InetAddress.getByName(relayTcp.substring(0, Math.max(colon, 0)).replace("[", "")
                        .replace("]", "")), Integer.parseInt(relayTcp.substring(colon + 1))));
            } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
                throw new IllegalArgumentException("--relay-tcp must be HOST:PORT on loopback, got '" + relayTcp + "'");
            }
        }
        Path socket = relaySocket != null ? relaySocket : dir.resolve("xds.sock");
        Files.createDirectories(dir);
        var relay = new XdsRelay(nodeId, new UpstreamCredentials(endpoint, new CertificateFileLayout(dir), this::token),
                new XdsRelay.Listener() {
                    @Override
                    public void upstreamConnected(String authentication) {
                        log("relay: upstream ADS stream to " + endpoint.authority() + " up (authenticated by " + authentication + ")");
                    }

                    @Override
                    public void upstreamLost(String reason) {
                        log("relay: " + reason + "; reconnecting");
                    }

                    @Override
                    public void refused(String reason) {
                        log("relay: refused a workload stream: " + reason);
                    }
                }).start(socket, tcp);
        log("relay: serving xDS for " + nodeId + " on unix:" + relay.socket()
                + (relay.tcpPort() > 0 ? " and " + tcp.get().getAddress().getHostAddress() + ":" + relay.tcpPort() : ""));
        return relay;
    }

    private String readTrustBundle() throws IOException {
        for (Path candidate : new Path[] {trustBundle, dir.resolve("ca.pem"), stateDir.resolve("ca").resolve("trust-bundle.pem")}) {
            if (candidate != null && Files.isReadable(candidate)) {
                return Files.readString(candidate);
            }
            if (candidate == trustBundle && trustBundle != null) {
                throw new NoSuchFileException(trustBundle + ": cannot read the trust bundle");
            }
        }
        throw new IllegalArgumentException("no trust bundle to verify the control plane: pass --trust-bundle FILE"
                + " or --state-dir of the control plane (" + stateDir.resolve("ca/trust-bundle.pem") + " does not exist)");
    }

    private Optional<String> token() {
        if (tokenFile == null) {
            return Optional.empty();
        }
        try {
            String token = Files.readString(tokenFile).strip();
            return token.isEmpty() ? Optional.empty() : Optional.of(token);
        } catch (IOException e) {
            log("cannot read --token-file " + tokenFile + ": " + e.getMessage());
            return Optional.empty();
        }
    }

    private static void log(String message) {
        System.err.println(Instant.now() + " septa agent: " + message);
    }
}
