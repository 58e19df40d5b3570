package dev.septa.cli;

import dev.septa.controlplane.auth.NodeTokens;
import dev.septa.identity.SpiffeId;
import dev.septa.policy.model.Workload;
import dev.septa.policy.parse.MeshParser;
import dev.septa.policy.parse.ParseResult;
import dev.septa.sidecar.bootstrap.CertificateFileLayout;
import dev.septa.sidecar.bootstrap.ControlPlaneEndpoint;
import dev.septa.sidecar.bootstrap.EnvoyBootstrapGenerator;
import dev.septa.sidecar.bootstrap.GrpcBootstrapGenerator;
import dev.septa.sidecar.bootstrap.ProxyNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code septa bootstrap}: prints the bootstrap pointing one workload's proxy at the control plane, with a node token
 * minted for that workload from the control plane's state directory (decision 0002; run it where {@code septa serve}
 * keeps its state). Both dialects run beside {@code septa agent}, which keeps the workload's SVID files in {@code DIR}
 * and gets its first certificate with the token in {@code DIR/node-token} (0600). Envoy also carries the token in
 * its bootstrap for its first xDS stream, and presents the SVID from {@code DIR} on every connection, so it can
 * reconnect after the token expired. A grpc bootstrap points the workload at the agent's plaintext relay
 * ({@code unix:DIR/xds.sock}, {@code insecure} creds, any gRPC implementation), or with {@code --direct-tls} at the
 * control plane itself with {@code tls} creds on the files (grpc-java with Septa's credentials provider only).
 */
@Command(name = "bootstrap", mixinStandardHelpOptions = true,
        description = {"Print the bootstrap that points a workload's proxy at the control plane (Envoy JSON, or grpc-xds JSON).",
                "Mints a short-lived node token for that workload; run where `septa serve` keeps its --state-dir."})
public final class BootstrapCommand implements Callable<Integer> {
    enum DialectName { envoy, grpc }

    @Option(names = "--workload", required = true, paramLabel = "NS/NAME") String workload;
    @Option(names = "--dialect", required = true, paramLabel = "envoy|grpc", description = "envoy or grpc") DialectName dialect;
    @Option(names = "--state-dir", defaultValue = ".septa", paramLabel = "DIR", description = "the control plane's state (default ${DEFAULT-VALUE})") Path stateDir;
    @Option(names = "--server", defaultValue = "127.0.0.1:15010", paramLabel = "HOST:PORT", description = "the control plane's xDS address (default ${DEFAULT-VALUE})") String server;
    @Option(names = "--inventory", paramLabel = "FILE", description = "inventory to take the workload's labels and service account from") Path inventory;
    @Option(names = "--dir", paramLabel = "DIR", description = "where `septa agent` keeps the certificate files (default STATE_DIR/workloads/NS_NAME)") Path dir;
    @Option(names = "--token-lifetime", defaultValue = "PT10M", paramLabel = "DURATION", description = "node token lifetime, ISO-8601 (default ${DEFAULT-VALUE})") Duration tokenLifetime;
    @Option(names = "--admin-port", defaultValue = "15000", description = "envoy: admin port on 127.0.0.1 (default ${DEFAULT-VALUE})") int adminPort;
    @Option(names = "--relay", paramLabel = "unix:PATH|HOST:PORT", description = "grpc: where the workload reaches `septa agent`'s xDS relay (default unix:DIR/xds.sock)") String relay;
    @Option(names = "--direct-tls", description = "grpc: connect the workload's xDS channel to the control plane itself with gRFC A65 `tls` creds"
            + " (grpc-java with Septa's jar on its class path only) instead of through the agent's relay") boolean directTls;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String[] id = workload.split("/", 2);
        if (id.length != 2 || id[0].isBlank() || id[1].isBlank()) {
            err.println("septa bootstrap: --workload must be NS/NAME, got '" + workload + "'");
            return 2;
        }
        if (tokenLifetime.isNegative() || tokenLifetime.isZero() || tokenLifetime.compareTo(NodeTokens.MAX_LIFETIME) > 0) {
            err.println("septa bootstrap: --token-lifetime must be more than 0 and at most PT"
                    + NodeTokens.MAX_LIFETIME.toHours() + "H, got " + tokenLifetime);
            return 2;
        }
        try {
            Path bundleFile = stateDir.resolve("ca").resolve("trust-bundle.pem");
            if (!Files.isReadable(bundleFile)) {
                err.println("septa bootstrap: " + bundleFile + " does not exist: start `septa serve --state-dir " + stateDir
                        + "` first (it creates the CA), or pass the --state-dir it uses");
                return 2;
            }
            ControlPlaneEndpoint endpoint = ControlPlaneEndpoint.parse(server, Files.readString(bundleFile));
            Optional<Workload> known = findWorkload(err);
            if (inventory != null && known.isEmpty()) {
                err.println("septa bootstrap: " + inventory + " has no Workload " + workload);
                return 2;
            }
            ProxyNode node = new ProxyNode(id[0], id[1], known.map(w -> w.metadata().labels()).orElse(Map.of()),
                    known.map(Workload::serviceAccount).orElse(null));
            String token = NodeTokens.open(stateDir).mint(node.id(), tokenLifetime);
            Path certDir = dir != null ? dir : stateDir.resolve("workloads").resolve(id[0] + "_" + id[1]);
            Files.createDirectories(certDir);
            Path tokenFile = certDir.resolve("node-token");
            Files.deleteIfExists(tokenFile);
            Files.createFile(tokenFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tokenFile, token);
            CertificateFileLayout files = new CertificateFileLayout(certDir);
            if (dialect == DialectName.envoy) {
                String trustDomain = readTrustDomain();
                String controlPlaneId = SpiffeId.controlPlane(trustDomain);
                out.print(EnvoyBootstrapGenerator.toJson(new EnvoyBootstrapGenerator(adminPort).generate(node, endpoint,
                        controlPlaneId, token, files)));
            } else if (directTls) {
                out.print(new GrpcBootstrapGenerator().generate(node, endpoint, files));
            } else {
                String relayUri = relay != null ? relay : GrpcBootstrapGenerator.unixUri(certDir.resolve("xds.sock"));
                out.print(new GrpcBootstrapGenerator().generateRelayed(node, relayUri, files));
            }
            err.println("septa bootstrap: node token written to " + tokenFile + "; start the agent before the "
                    + (dialect == DialectName.envoy ? "sidecar" : "workload") + ":");
            err.println("  septa agent --workload " + node.id() + " --dir " + certDir + " --server " + endpoint.authority()
                    + " --token-file " + tokenFile + " --state-dir " + stateDir
                    + (relay != null && !relay.startsWith("unix:") ? " --relay-tcp " + relay : ""));
            out.flush();
            return 0;
        } catch (IllegalArgumentException e) {
            err.println("septa bootstrap: " + e.getMessage());
            return 2;
        } catch (IOException e) {
            err.println("septa bootstrap: " + e.getMessage());
            return 2;
        }
    }

    private Optional<Workload> findWorkload(PrintWriter err) throws IOException {
        if (inventory == null) {
            return Optional.empty();
        }
        List<dev.septa.policy.parse.InputFile> inputs;
        try {
            inputs = PolicyFiles.read(List.of(inventory));
        } catch (PolicyFiles.UnreadableException e) {
            throw new IOException(e.getMessage());
        }
        ParseResult parsed = MeshParser.parse(inputs);
        if (parsed.hasErrors()) {
            parsed.diagnostics().forEach(err::println);
            throw new IllegalArgumentException(inventory + " does not parse");
        }
        return parsed.mesh().workloads().stream().filter(w -> w.id().equals(workload)).findFirst();
    }

    private String readTrustDomain() throws IOException {
        Path file = stateDir.resolve("ca").resolve("trust-domain");
        return Files.isReadable(file) ? Files.readString(file).strip() : "cluster.local";
    }
}
