package dev.septa.cli;

import dev.septa.controlplane.ControlPlane;
import dev.septa.controlplane.ControlPlaneOptions;
import dev.septa.controlplane.ServeContribution;
import dev.septa.controlplane.auth.KubernetesTokenReviewer;
import dev.septa.controlplane.kubernetes.KubernetesMode;
import dev.septa.controlplane.kubernetes.SecretRotationStores;
import dev.septa.controlplane.kubernetes.TrustBundlePublisher;
import dev.septa.controlplane.kubernetes.WebhookCaBundlePublisher;
import dev.septa.controlplane.kubernetes.admission.WebhookServer;
import dev.septa.controlplane.source.MeshSource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.time.Duration;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code septa serve}: the control plane in local mode (watching the intents folder and the inventory file) or in
 * Kubernetes mode ({@code --kubernetes}: custom resources, pods and services through the API, see docs/kubernetes.md).
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Run the control plane: compile intents and inventory, push them over xDS (ADS, delta ADS, SDS; TLS),",
                "and serve health, Prometheus metrics and the status API over HTTP. Edits to the files (or, with --kubernetes,",
                "to the custom resources, pods and services) apply live."})
public final class ServeCommand implements Callable<Integer> {
    @Option(names = "--intents", paramLabel = "DIR", description = "folder of Segment, Intent and MeshConfig YAML (local mode)")
    Path intents;
    @Option(names = "--inventory", paramLabel = "FILE", description = "Workload and Service YAML (local mode's stand-in for Kubernetes)")
    Path inventory;
    @Option(names = "--state-dir", paramLabel = "DIR", defaultValue = ".septa", description = "CA and node-token key (default ${DEFAULT-VALUE})")
    Path stateDir;
    @Option(names = "--xds-address", paramLabel = "HOST", defaultValue = "127.0.0.1", description = "xDS/SDS bind address (default ${DEFAULT-VALUE})")
    String xdsHost;
    @Option(names = "--xds-port", paramLabel = "PORT", defaultValue = "15010", description = "xDS/SDS port, TLS (default ${DEFAULT-VALUE}; 0 picks one)")
    int xdsPort;
    @Option(names = "--http-address", paramLabel = "HOST", defaultValue = "127.0.0.1", description = "HTTP API and metrics bind address (default ${DEFAULT-VALUE})")
    String httpHost;
    @Option(names = "--http-port", paramLabel = "PORT", defaultValue = "15000", description = "HTTP API and metrics port (default ${DEFAULT-VALUE}; 0 picks one)")
    int httpPort;
    @Option(names = "--min-certificate-ttl", paramLabel = "DURATION", defaultValue = "5m",
            description = "shortest workload certificate lifetime the CA accepts (default ${DEFAULT-VALUE}; down to 2s for tests and demos)")
    String minCertificateTtl;
    @Option(names = "--certificate-ttl", paramLabel = "DURATION",
            description = "workload certificate lifetime, overriding MeshConfig certificateTTL (e.g. 10s with --min-certificate-ttl 5s, to watch rotation)")
    String certificateTtl;
    @Option(names = "--kubernetes", description = {"read Segments, Intents and MeshConfig (CRDs), and the Pods and Services of namespaces",
            "labelled septa.dev/inject=enabled, from the Kubernetes API (kubeconfig, or the in-cluster service account);",
            "publish the trust bundle as ConfigMap septa-trust-bundle there; serve the injection webhook (--webhook-port)"})
    boolean kubernetes;
    @Option(names = "--proxy-image", defaultValue = dev.septa.sidecar.inject.InjectionSettings.DEFAULT_PROXY_IMAGE, paramLabel = "IMAGE",
            description = "with --kubernetes: the Envoy image the webhook injects (default ${DEFAULT-VALUE})")
    String proxyImage;
    @Option(names = "--septa-image", defaultValue = dev.septa.sidecar.inject.InjectionSettings.DEFAULT_SEPTA_IMAGE, paramLabel = "IMAGE",
            description = "with --kubernetes: the image for the injected agent and init container (default ${DEFAULT-VALUE})")
    String septaImage;
    @Option(names = "--webhook-address", paramLabel = "HOST", defaultValue = "127.0.0.1",
            description = "with --kubernetes: injection webhook (HTTPS) bind address (default ${DEFAULT-VALUE}; the Deployment binds 0.0.0.0)")
    String webhookHost;
    @Option(names = "--webhook-port", paramLabel = "PORT", defaultValue = "15443",
            description = "with --kubernetes: injection webhook port, HTTPS, path /inject (default ${DEFAULT-VALUE}; 0 picks one)")
    int webhookPort;
    @Option(names = "--allow-unbound-service-account-tokens",
            description = {"with --kubernetes: accept service-account tokens that are not bound to a pod; such a token then",
                    "admits every pod of its service account (warned in 'septa status'; see docs/security.md)"})
    boolean unboundServiceAccountTokens;
    @Option(names = "--kubernetes-sync-timeout", paramLabel = "DURATION", defaultValue = "60s",
            description = "how long the first list of each kind may take before giving up (default ${DEFAULT-VALUE})")
    String syncTimeout;

    @Option(names = "--leader-election-id", paramLabel = "NAME",
            description = {"with --kubernetes: this replica's name in Lease septa-leader (default: env POD_NAME, else the host name);",
                    "every replica serves, only the leader writes to the API (docs/kubernetes.md)"})
    String leaderElectionId;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (kubernetes) {
            if (intents != null || inventory != null) {
                err.println("septa serve: --kubernetes reads intents and inventory from the API; leave out --intents and --inventory");
                return 2;
            }
            return serveKubernetes(out, err);
        }
        if (intents == null) {
            err.println("septa serve: give --intents DIR (local mode) or --kubernetes");
            return 2;
        }
        if (!Files.isDirectory(intents)) {
            err.println("septa serve: --intents " + intents + ": not a directory");
            return 2;
        }
        if (inventory != null && !Files.isRegularFile(inventory)) {
            err.println("septa serve: --inventory " + inventory + ": no such file");
            return 2;
        }
        ControlPlaneOptions options;
        try {
            options = options(null).intentsDir(intents).inventoryFile(inventory).build();
        } catch (IllegalArgumentException e) {
            err.println("septa serve: " + e.getMessage());
            return 2;
        }
        return serve(options, null, out, err);
    }

    private ControlPlaneOptions.Builder options(MeshSource source) {
        return ControlPlaneOptions.builder().source(source)
                .stateDir(stateDir).xdsHost(xdsHost).xdsPort(xdsPort).httpHost(httpHost).httpPort(httpPort)
                .minCertificateTtl(CaDurations.parse(minCertificateTtl))
                .certificateTtl(certificateTtl == null ? null : CaDurations.parse(certificateTtl))
                // Kubernetes: the audit trail goes to standard output, for the cluster's log collection (docs/audit.md).
                .auditToStdout(kubernetes);
    }

    private int serveKubernetes(PrintWriter out, PrintWriter err) throws Exception {
        if (webhookPort < 0 || webhookPort > 65535) {
            err.println("septa serve: --webhook-port: expected 0..65535, got " + webhookPort);
            return 2;
        }
        Duration timeout;
        try {
            timeout = CaDurations.parse(syncTimeout);
        } catch (IllegalArgumentException e) {
            err.println("septa serve: --kubernetes-sync-timeout: " + e.getMessage());
            return 2;
        }
        KubernetesClient client;
        try {
            client = new KubernetesClientBuilder().build(); // kubeconfig, else the pod's service account
        } catch (RuntimeException e) {
            err.println("septa serve: cannot configure the Kubernetes client (kubeconfig or in-cluster): " + rootMessage(e));
            return 2;
        }
        KubernetesMode k8s;
        try {
            k8s = KubernetesMode.connect(client, timeout);
        } catch (MeshSource.SourceException e) {
            client.close();
            err.println("septa serve: " + e.file() + ": " + e.getMessage());
            return 2;
        } catch (RuntimeException e) {
            client.close();
            err.println("septa serve: cannot reach the Kubernetes API: " + rootMessage(e));
            return 2;
        }
        String namespace = controlPlaneNamespace();
        try {
            k8s.electLeader(namespace, replicaName(), dev.septa.controlplane.kubernetes.LeaderElection.Timing.DEFAULT);
            if (!k8s.awaitCaOrLeadership(namespace, timeout)) {
                k8s.close();
                client.close();
                err.println("septa serve: no leader created the CA (Secret " + namespace + "/" + SecretRotationStores.CA
                        + ") within " + syncTimeout + ", and this replica did not become the leader (Lease " + namespace + "/"
                        + dev.septa.controlplane.kubernetes.LeaderElection.LEASE + ")");
                return 2;
            }
        } catch (RuntimeException e) {
            k8s.close();
            client.close();
            err.println("septa serve: cannot take part in leader election: " + rootMessage(e));
            return 2;
        }
        String injectedImage = spec.commandLine().getParseResult().hasMatchedOption("--septa-image") ? septaImage
                : ownImage(client, namespace).orElse(septaImage);
        ControlPlaneOptions options;
        try {
            options = options(k8s.source())
                    .compilation(k8s.compilation())
                    .serviceAccountTokens(new KubernetesTokenReviewer(client, java.time.Clock.systemUTC()))
                    .unboundServiceAccountTokens(unboundServiceAccountTokens)
                    .caStores(k8s.leaderOnly(new SecretRotationStores(client, namespace)))
                    .contribute(k8s.contribution(new java.net.InetSocketAddress(webhookHost, webhookPort),
                            settings -> settings.withProxyImage(proxyImage).withSeptaImage(injectedImage)))
                    .build();
        } catch (IllegalArgumentException e) {
            k8s.close();
            client.close();
            err.println("septa serve: " + e.getMessage());
            return 2;
        }
        out.println("septa serve: " + k8s.source().describe());
        return serve(options, k8s, out, err);
    }

    /**
     * The image this control plane runs from (its pod's container {@code septa}, env POD_NAME), which the webhook then
     * injects for the agent and the init container: one image name in the manifests, set by kustomize.
     */
    static java.util.Optional<String> ownImage(KubernetesClient client, String namespace) {
        String pod = System.getenv("POD_NAME");
        if (pod == null || pod.isBlank()) {
            return java.util.Optional.empty();
        }
        try {
            var self = client.pods().inNamespace(namespace).withName(pod.strip()).get();
            return self == null ? java.util.Optional.empty() : self.getSpec().getContainers().stream()
                    .filter(c -> "septa".equals(c.getName())).map(io.fabric8.kubernetes.api.model.Container::getImage)
                    .filter(i -> i != null && !i.isBlank()).findFirst();
        } catch (RuntimeException e) {
            return java.util.Optional.empty(); // the default image then
        }
    }

    /** This replica's name in the Lease: --leader-election-id, env POD_NAME (the Deployment sets it), else the host name. */
    private String replicaName() {
        if (leaderElectionId != null && !leaderElectionId.isBlank()) {
            return leaderElectionId.strip();
        }
        String pod = System.getenv("POD_NAME");
        if (pod != null && !pod.isBlank()) {
            return pod.strip();
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "septa-" + ProcessHandle.current().pid();
        }
    }

    /** The namespace the control plane runs in (the Deployment sets POD_NAMESPACE), where the CA's Secrets live. */
    static String controlPlaneNamespace() {
        String ns = System.getenv("POD_NAMESPACE");
        return ns == null || ns.isBlank() ? dev.septa.controlplane.ControlPlaneCore.SERVING_NAMESPACE : ns.strip();
    }

    private int serve(ControlPlaneOptions options, KubernetesMode k8s, PrintWriter out, PrintWriter err) throws InterruptedException {
        ControlPlane cp;
        try {
            cp = ControlPlane.start(options); // starts and, on failure, closes Kubernetes mode too (a contribution)
        } catch (ServeContribution.StartException e) {
            err.println("septa serve: " + e.getMessage() + ": " + rootMessage(e));
            return 2;
        } catch (RuntimeException e) {
            err.println("septa serve: cannot start: " + rootMessage(e));
            return 2;
        }
        if (k8s != null) {
            out.println("septa serve: publishing the trust bundle as ConfigMap " + TrustBundlePublisher.CONFIG_MAP
                    + " in namespaces " + k8s.source().meshNamespaces() + " (and every namespace labelled later)");
            out.printf("septa serve: injection webhook on https://%s:%d%s (certificate for %s); caBundle of MutatingWebhookConfiguration %s follows the CA%n",
                    webhookHost, k8s.webhook().port(), WebhookServer.PATH, String.join(", ", WebhookServer.DNS_NAMES),
                    WebhookCaBundlePublisher.CONFIGURATION);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            cp.close(); // the control plane first, then its contributions: the publisher must not read a closing source
            stopped.countDown();
        }, "septa-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        out.printf("septa serve: xDS/SDS/ALS (TLS) on %s:%d, HTTP on http://%s:%d (/api/status, /api/graph, /health, /prometheus)%n",
                xdsHost, cp.xdsPort(), httpHost, cp.httpPort());
        out.printf("Traffic graph: http://%s:%d/graph%n", httpHost, cp.httpPort());
        if (k8s == null) {
            out.printf("septa serve: trust bundle %s; bootstrap a workload with: septa bootstrap --workload NS/NAME --state-dir %s%n",
                    stateDir.resolve("ca").resolve("trust-bundle.pem"), stateDir);
        }
        var compile = cp.core().status().compile();
        if (!compile.ok()) {
            err.println("septa serve: the input does not compile yet; serving no configuration until it does:");
            compile.errors().forEach(e -> err.println("  " + e));
        }
        out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            // Run in-process (tests, an embedding program) and interrupted: stop as the shutdown hook would.
            Runtime.getRuntime().removeShutdownHook(hook);
            cp.close();
        }
        return 0;
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }
}
