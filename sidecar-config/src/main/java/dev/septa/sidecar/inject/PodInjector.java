package dev.septa.sidecar.inject;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.septa.sidecar.bootstrap.CertificateFileLayout;
import dev.septa.sidecar.bootstrap.ControlPlaneEndpoint;
import dev.septa.sidecar.bootstrap.GrpcBootstrapGenerator;
import dev.septa.sidecar.bootstrap.PodEnvoyBootstrapGenerator;
import dev.septa.sidecar.bootstrap.ProxyNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The pod mutation for injection, as a pure function: a pod (or a workload's pod template) in, a new one out; the
 * input is never modified. What it adds is described in docs/decisions/0005-kubernetes-injection.md:
 * <ul>
 *   <li>Envoy mode (the default): init container {@code septa-init} (iptables: inbound to 15006, outbound to 15001,
 *       uid 1337 and the control plane's ports excluded), then Envoy as the native sidecar {@code septa-proxy}
 *       (an init container with {@code restartPolicy: Always}, so it runs before and through the app containers and
 *       the user's own init containers), uid 1337, its bootstrap in its args;</li>
 *   <li>proxyless mode ({@code septa.dev/proxyless: "true"}): {@code septa agent} as the native sidecar
 *       {@code septa-agent}, writing the SVID files to a shared in-memory emptyDir; every app container gets the
 *       directory read-only and {@code GRPC_XDS_BOOTSTRAP_CONFIG} (decision 0004); no traffic capture;</li>
 *   <li>both: a projected service-account token with audience {@code septa} (how the workload authenticates to the
 *       control plane) and the trust bundle from the namespace's ConfigMap.</li>
 * </ul>
 * Injecting an injected pod changes nothing; {@code septa.dev/inject: "false"} and hostNetwork pods are skipped.
 */
public final class PodInjector {
    public static final String INJECT_ANNOTATION = "septa.dev/inject";
    public static final String PROXYLESS_ANNOTATION = "septa.dev/proxyless";
    /** Set on injected pods: {@code envoy} or {@code grpc}. Its presence makes injection a no-op. */
    public static final String STATUS_ANNOTATION = "septa.dev/status";

    public static final String INIT_CONTAINER = "septa-init";
    public static final String PROXY_CONTAINER = "septa-proxy";
    public static final String AGENT_CONTAINER = "septa-agent";
    public static final Set<String> SEPTA_CONTAINERS = Set.of(INIT_CONTAINER, PROXY_CONTAINER, AGENT_CONTAINER);

    public static final String TOKEN_VOLUME = "septa-token";
    public static final String TRUST_VOLUME = "septa-trust";
    public static final String CERTS_VOLUME = "septa-certs";
    public static final String TOKEN_DIR = "/var/run/secrets/septa/tokens";
    public static final String TOKEN_FILE = TOKEN_DIR + "/token";
    public static final String TRUST_DIR = "/var/run/secrets/septa/trust";
    public static final String TRUST_FILE = TRUST_DIR + "/ca.pem";
    public static final String CERTS_DIR = "/var/run/septa/certs";
    /** The audience of the projected token: a token for the API server cannot be replayed at the control plane and vice versa. */
    public static final String TOKEN_AUDIENCE = "septa";
    public static final long TOKEN_LIFETIME_SECONDS = 3600;
    /** Downward-API variable referenced as {@code $(SEPTA_POD_NAME)}: a Deployment's pod has no name yet when it is injected. */
    public static final String POD_NAME_ENV = "SEPTA_POD_NAME";
    public static final String GRPC_BOOTSTRAP_ENV = "GRPC_XDS_BOOTSTRAP_CONFIG";

    private static final ObjectMapper JSON = PodInjectorJson.MAPPER;
    private final InjectionSettings settings;

    public PodInjector(InjectionSettings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    /** Injects a pod; {@code namespace} is the admission request's (a pod being created may not carry one), else the pod's, else {@code default}. */
    public PodResult inject(Pod pod, String namespace) {
        Pod copy = copy(pod, Pod.class);
        var template = new PodTemplateSpec(copy.getMetadata(), copy.getSpec());
        InjectionResult result = inject(template, namespace == null || namespace.isBlank() ? namespaceOf(copy) : namespace);
        copy.setMetadata(result.template().getMetadata());
        copy.setSpec(result.template().getSpec());
        return new PodResult(copy, result.outcome(), result.reason());
    }

    /** What {@link #inject(Pod, String)} did, with the whole pod. */
    public record PodResult(Pod pod, InjectionResult.Outcome outcome, String reason) {
        public boolean injected() {
            return outcome == InjectionResult.Outcome.INJECTED;
        }
    }

    /** Injects a pod template (Deployment, StatefulSet, DaemonSet, Job) of namespace {@code namespace}. */
    public InjectionResult inject(PodTemplateSpec template, String namespace) {
        PodTemplateSpec pod = copy(template, PodTemplateSpec.class);
        if (pod.getMetadata() == null) {
            pod.setMetadata(new ObjectMeta());
        }
        if (pod.getSpec() == null) {
            pod.setSpec(new PodSpec());
        }
        ObjectMeta meta = pod.getMetadata();
        PodSpec spec = pod.getSpec();
        Map<String, String> annotations = meta.getAnnotations() == null ? Map.of() : meta.getAnnotations();
        if ("false".equalsIgnoreCase(annotations.getOrDefault(INJECT_ANNOTATION, "").trim())) {
            return new InjectionResult(pod, InjectionResult.Outcome.SKIPPED, INJECT_ANNOTATION + " is \"false\"");
        }
        if (annotations.containsKey(STATUS_ANNOTATION) || containers(spec).stream().anyMatch(c -> c.getName() != null && SEPTA_CONTAINERS.contains(c.getName()))) {
            return new InjectionResult(pod, InjectionResult.Outcome.ALREADY_INJECTED, "already injected");
        }
        if (Boolean.TRUE.equals(spec.getHostNetwork())) {
            return new InjectionResult(pod, InjectionResult.Outcome.SKIPPED,
                    "hostNetwork pod: it shares the node's network namespace, where traffic capture would take the node's traffic");
        }
        if (spec.getContainers() == null || spec.getContainers().isEmpty()) {
            return new InjectionResult(pod, InjectionResult.Outcome.SKIPPED, "pod has no containers");
        }
        boolean proxyless = "true".equalsIgnoreCase(annotations.getOrDefault(PROXYLESS_ANNOTATION, "").trim());
        Map<String, String> labels = meta.getLabels() == null ? Map.of() : meta.getLabels();
        String serviceAccount = spec.getServiceAccountName() == null || spec.getServiceAccountName().isBlank()
                ? "default" : spec.getServiceAccountName();

        List<Container> inits = new ArrayList<>();
        List<Volume> volumes = new ArrayList<>(List.of(tokenVolume(), trustVolume()));
        if (proxyless) {
            inits.add(agent(namespace, firstAppSecurity(spec)));
            volumes.add(new VolumeBuilder().withName(CERTS_VOLUME).withNewEmptyDir().withMedium("Memory").endEmptyDir().build());
            String bootstrap = grpcBootstrap(namespace, labels, serviceAccount);
            spec.getContainers().forEach(container -> proxylessApp(container, bootstrap));
        } else {
            inits.add(iptablesInit());
            inits.add(proxy(namespace, labels, serviceAccount));
        }
        if (spec.getInitContainers() != null) {
            inits.addAll(spec.getInitContainers());
        }
        spec.setInitContainers(inits);
        List<Volume> allVolumes = new ArrayList<>(spec.getVolumes() == null ? List.of() : spec.getVolumes());
        allVolumes.addAll(volumes);
        spec.setVolumes(allVolumes);
        var newAnnotations = new LinkedHashMap<>(annotations);
        newAnnotations.put(STATUS_ANNOTATION, proxyless ? "grpc" : "envoy");
        meta.setAnnotations(newAnnotations);
        return new InjectionResult(pod, InjectionResult.Outcome.INJECTED,
                proxyless ? "injected septa-agent (proxyless gRPC)" : "injected septa-init and septa-proxy (Envoy)");
    }

    private Container iptablesInit() {
        var capture = IptablesScript.script(settings.controlPlanePorts(), List.of());
        return new ContainerBuilder()
                .withName(INIT_CONTAINER)
                .withImage(settings.septaImage())
                .withCommand("sh", "-ec", capture)
                // NET_ADMIN/NET_RAW for iptables in the pod's own network namespace; root, but only for this step.
                .withSecurityContext(new SecurityContextBuilder()
                        .withRunAsUser(0L).withRunAsGroup(0L).withRunAsNonRoot(false)
                        .withAllowPrivilegeEscalation(false).withPrivileged(false).withReadOnlyRootFilesystem(true)
                        .withNewCapabilities().withAdd("NET_ADMIN", "NET_RAW").withDrop("ALL").endCapabilities()
                        .build())
                .withNewResources().addToRequests("cpu", new Quantity("10m")).addToRequests("memory", new Quantity("16Mi"))
                .addToLimits("memory", new Quantity("64Mi")).endResources()
                .build();
    }

    private Container proxy(String namespace, Map<String, String> labels, String serviceAccount) {
        var bootstrap = new PodEnvoyBootstrapGenerator().generate(namespace, "$(" + POD_NAME_ENV + ")", labels, serviceAccount,
                settings.xdsHost(), settings.xdsPort(), TOKEN_FILE, TRUST_FILE, settings.controlPlaneSpiffeId());
        return new ContainerBuilder()
                .withName(PROXY_CONTAINER)
                .withImage(settings.proxyImage())
                .withRestartPolicy("Always")
                .withCommand("envoy")
                .withArgs("--config-yaml", PodEnvoyBootstrapGenerator.toJson(bootstrap), "--log-level", "warn")
                .withEnv(podNameEnv())
                .withSecurityContext(new SecurityContextBuilder()
                        .withRunAsUser((long) IptablesScript.PROXY_UID).withRunAsGroup((long) IptablesScript.PROXY_UID)
                        .withRunAsNonRoot(true).withAllowPrivilegeEscalation(false).withReadOnlyRootFilesystem(true)
                        .withNewCapabilities().withDrop("ALL").endCapabilities()
                        .build())
                .withVolumeMounts(mount(TOKEN_VOLUME, TOKEN_DIR), mount(TRUST_VOLUME, TRUST_DIR))
                .withNewResources().addToRequests("cpu", new Quantity("100m")).addToRequests("memory", new Quantity("128Mi"))
                .addToLimits("memory", new Quantity("1Gi")).endResources()
                .build();
    }

    private Container agent(String namespace, SecurityContext appSecurity) {
        // The agent writes key.pem 0600: it must run as the app's user, or the app cannot read its own key.
        var security = new SecurityContextBuilder().withAllowPrivilegeEscalation(false)
                .withNewCapabilities().withDrop("ALL").endCapabilities();
        if (appSecurity != null) {
            security.withRunAsUser(appSecurity.getRunAsUser()).withRunAsGroup(appSecurity.getRunAsGroup());
        }
        return new ContainerBuilder()
                .withName(AGENT_CONTAINER)
                .withImage(settings.septaImage())
                .withRestartPolicy("Always")
                .withCommand("septa", "agent",
                        "--workload", namespace + "/$(" + POD_NAME_ENV + ")",
                        "--dir", CERTS_DIR,
                        "--server", settings.xdsAuthority(),
                        "--token-file", TOKEN_FILE,
                        "--trust-bundle", TRUST_FILE)
                .withEnv(podNameEnv())
                .withSecurityContext(security.build())
                .withVolumeMounts(mount(TOKEN_VOLUME, TOKEN_DIR), mount(TRUST_VOLUME, TRUST_DIR),
                        new VolumeMountBuilder().withName(CERTS_VOLUME).withMountPath(CERTS_DIR).build())
                // grpc reads the files while parsing its bootstrap (decision 0004): the app starts only once they exist.
                .withNewStartupProbe().withNewExec().withCommand("test", "-s", CERTS_DIR + "/" + CertificateFileLayout.CA).endExec()
                .withPeriodSeconds(1).withFailureThreshold(120).endStartupProbe()
                .withNewResources().addToRequests("cpu", new Quantity("50m")).addToRequests("memory", new Quantity("128Mi"))
                .addToLimits("memory", new Quantity("256Mi")).endResources()
                .build();
    }

    private void proxylessApp(Container container, String bootstrap) {
        List<EnvVar> env = new ArrayList<>(container.getEnv() == null ? List.of() : container.getEnv());
        boolean hasBootstrap = env.stream().anyMatch(e -> GRPC_BOOTSTRAP_ENV.equals(e.getName()) || "GRPC_XDS_BOOTSTRAP".equals(e.getName()));
        if (!hasBootstrap) {
            // The app's own bootstrap wins; ours references $(SEPTA_POD_NAME), which must be defined before it.
            if (env.stream().noneMatch(e -> POD_NAME_ENV.equals(e.getName()))) {
                env.add(podNameEnv());
            }
            env.add(new EnvVarBuilder().withName(GRPC_BOOTSTRAP_ENV).withValue(bootstrap).build());
        }
        container.setEnv(env);
        List<VolumeMount> mounts = new ArrayList<>(container.getVolumeMounts() == null ? List.of() : container.getVolumeMounts());
        mounts.add(mount(CERTS_VOLUME, CERTS_DIR));
        container.setVolumeMounts(mounts);
    }

    private String grpcBootstrap(String namespace, Map<String, String> labels, String serviceAccount) {
        String json = new GrpcBootstrapGenerator().generate(new ProxyNode(namespace, "$(" + POD_NAME_ENV + ")", labels, serviceAccount),
                new ControlPlaneEndpoint(settings.xdsHost(), settings.xdsPort(), null), new CertificateFileLayout(Path.of(CERTS_DIR)));
        try {
            return JSON.writeValueAsString(JSON.readTree(json));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static SecurityContext firstAppSecurity(PodSpec spec) {
        SecurityContext first = spec.getContainers().getFirst().getSecurityContext();
        return first != null && (first.getRunAsUser() != null || first.getRunAsGroup() != null) ? first : null;
    }

    private Volume tokenVolume() {
        return new VolumeBuilder().withName(TOKEN_VOLUME).withNewProjected().addNewSource().withNewServiceAccountToken()
                .withAudience(TOKEN_AUDIENCE).withExpirationSeconds(TOKEN_LIFETIME_SECONDS).withPath("token")
                .endServiceAccountToken().endSource().endProjected().build();
    }

    private Volume trustVolume() {
        return new VolumeBuilder().withName(TRUST_VOLUME).withNewConfigMap().withName(settings.trustBundleConfigMap())
                .addNewItem().withKey("ca.pem").withPath("ca.pem").endItem().endConfigMap().build();
    }

    private static EnvVar podNameEnv() {
        return new EnvVarBuilder().withName(POD_NAME_ENV).withNewValueFrom().withNewFieldRef().withFieldPath("metadata.name")
                .endFieldRef().endValueFrom().build();
    }

    private static VolumeMount mount(String volume, String path) {
        return new VolumeMountBuilder().withName(volume).withMountPath(path).withReadOnly(true).build();
    }

    private static List<Container> containers(PodSpec spec) {
        List<Container> all = new ArrayList<>();
        if (spec.getInitContainers() != null) {
            all.addAll(spec.getInitContainers());
        }
        if (spec.getContainers() != null) {
            all.addAll(spec.getContainers());
        }
        return all;
    }

    private static String namespaceOf(Pod pod) {
        String ns = pod.getMetadata() == null ? null : pod.getMetadata().getNamespace();
        return ns == null || ns.isBlank() ? "default" : ns;
    }

    private static <T> T copy(T value, Class<T> type) {
        // A deep copy through JSON: fabric8's builders share nested maps, and the input must stay untouched.
        return JSON.convertValue(value, type);
    }
}
