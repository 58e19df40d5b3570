package dev.septa.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.septa.sidecar.inject.InjectionSettings;
import dev.septa.sidecar.inject.PodInjector;
import dev.septa.sidecar.inject.WorkloadInjector;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code septa inject -f pod.yaml}: prints the injected objects as YAML, as the admission webhook would mutate their
 * pods. Pods and the pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs; every
 * document of every file, in order. What was done to each goes to stderr. Exit 0, or 2 (and nothing on stdout) on bad input.
 */
@Command(name = "inject", mixinStandardHelpOptions = true,
        description = {"Print the injected pod(s) as YAML, as Septa's admission webhook would mutate them.",
                "Accepts Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs (their pod template); multi-document files.",
                "Pods annotated septa.dev/proxyless: \"true\" get the septa agent instead of Envoy; septa.dev/inject: \"false\" opts out."})
public final class InjectCommand implements Callable<Integer> {
    @Option(names = {"-f", "--file"}, required = true, arity = "1..*", paramLabel = "FILE", description = "Kubernetes YAML file(s); - reads standard input")
    List<Path> files;
    @Option(names = "--namespace", defaultValue = "default", paramLabel = "NS", description = "namespace of objects that carry none (default ${DEFAULT-VALUE})")
    String namespace;
    @Option(names = "--proxy-image", defaultValue = InjectionSettings.DEFAULT_PROXY_IMAGE, paramLabel = "IMAGE", description = "Envoy image (default ${DEFAULT-VALUE})")
    String proxyImage;
    @Option(names = "--septa-image", defaultValue = InjectionSettings.DEFAULT_SEPTA_IMAGE, paramLabel = "IMAGE",
            description = "image with septa, sh and iptables, for the agent and the init container (default ${DEFAULT-VALUE})")
    String septaImage;
    @Option(names = "--xds-address", defaultValue = InjectionSettings.DEFAULT_XDS_HOST + ":15010", paramLabel = "HOST:PORT",
            description = "the control plane's xDS Service as pods reach it (default ${DEFAULT-VALUE})")
    String xdsAddress;
    @Option(names = "--trust-domain", defaultValue = "cluster.local", paramLabel = "TD", description = "the mesh's trust domain (default ${DEFAULT-VALUE})")
    String trustDomain;

    @Spec
    CommandSpec spec;

    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES).disable(YAMLGenerator.Feature.SPLIT_LINES).build());

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int colon = xdsAddress.lastIndexOf(':');
        int port;
        try {
            port = colon > 0 ? Integer.parseInt(xdsAddress.substring(colon + 1)) : -1;
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port <= 0 || port > 65535) {
            err.println("--xds-address: expected HOST:PORT with a port 1..65535, got '" + xdsAddress + "'");
            return 2;
        }
        var settings = InjectionSettings.defaults(trustDomain).withProxyImage(proxyImage).withSeptaImage(septaImage)
                .withXds(xdsAddress.substring(0, colon), port);
        var injector = new WorkloadInjector(new PodInjector(settings));

        // Read everything first: on bad input nothing is printed, so a pipe into kubectl apply gets all or nothing.
        List<String> yaml = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        for (Path file : files) {
            String text;
            try {
                text = file.toString().equals("-") ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                        : Files.readString(file, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                err.println(file + ": no such file");
                return 2;
            } catch (IOException e) {
                err.println(file + ": cannot read: " + e.getMessage());
                return 2;
            }
            try {
                for (var document : KubernetesYamlReader.read(file.toString(), text)) {
                    WorkloadInjector.Result result;
                    try {
                        result = injector.inject(document.resource(), namespace);
                    } catch (IllegalArgumentException e) {
                        err.println(file + ":" + document.line() + ": " + e.getMessage());
                        return 2;
                    }
                    var meta = result.resource().getMetadata();
                    String name = meta == null || meta.getName() == null ? "(unnamed)" : meta.getName();
                    notes.add(file + ":" + document.line() + ": " + result.resource().getKind() + " " + name + ": "
                            + result.outcome().name().toLowerCase().replace('_', ' ') + (result.injected() ? "" : " (" + result.reason() + ")"));
                    yaml.add(YAML.writeValueAsString(result.resource()));
                }
            } catch (KubernetesYamlReader.BadInput e) {
                err.println(e.getMessage());
                return 2;
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
        yaml.forEach(out::print);
        notes.forEach(err::println);
        out.flush();
        return 0;
    }
}
