package dev.septa.sidecar.inject;

import dev.septa.identity.SpiffeId;
import java.util.List;
import java.util.Objects;

/**
 * What the injector needs to know about the mesh it injects into: images, where the control plane's xDS Service is,
 * and the identity its certificate carries. Defaults match {@code manifests/} (namespace {@code septa-system},
 * Service {@code septa}, xDS port 15010, HTTP port 15000).
 *
 * @param proxyImage          the Envoy image of the sidecar
 * @param septaImage          the image with the {@code septa} launcher on its PATH (the agent), {@code sh} and {@code iptables} (the init container)
 * @param xdsHost             the control plane's xDS Service, as the pod resolves it
 * @param xdsPort             its xDS/SDS port
 * @param controlPlanePorts   the control plane's ports app containers may reach directly (never redirected to Envoy)
 * @param controlPlaneSpiffeId the SPIFFE ID the control plane's certificate must carry (decision 0002)
 * @param trustBundleConfigMap the ConfigMap (key {@code ca.pem}) holding the trust bundle in every injected namespace
 */
public record InjectionSettings(String proxyImage, String septaImage, String xdsHost, int xdsPort,
                                List<Integer> controlPlanePorts, String controlPlaneSpiffeId, String trustBundleConfigMap) {
    public static final String DEFAULT_PROXY_IMAGE = "envoyproxy/envoy:v1.36.2";
    public static final String DEFAULT_SEPTA_IMAGE = "ghcr.io/septa-mesh/septa:0.1.0";
    public static final String DEFAULT_XDS_HOST = "septa.septa-system.svc";

    public InjectionSettings {
        Objects.requireNonNull(proxyImage, "proxyImage");
        Objects.requireNonNull(septaImage, "septaImage");
        Objects.requireNonNull(xdsHost, "xdsHost");
        Objects.requireNonNull(controlPlaneSpiffeId, "controlPlaneSpiffeId");
        Objects.requireNonNull(trustBundleConfigMap, "trustBundleConfigMap");
        if (xdsPort <= 0 || xdsPort > 65535) {
            throw new IllegalArgumentException("xdsPort must be 1..65535, got " + xdsPort);
        }
        controlPlanePorts = List.copyOf(controlPlanePorts);
    }

    /** The defaults for trust domain {@code trustDomain}: the images above, {@code septa.septa-system.svc:15010}. */
    public static InjectionSettings defaults(String trustDomain) {
        return new InjectionSettings(DEFAULT_PROXY_IMAGE, DEFAULT_SEPTA_IMAGE, DEFAULT_XDS_HOST, 15010, List.of(15010, 15000),
                SpiffeId.controlPlane(trustDomain), "septa-trust-bundle");
    }

    public InjectionSettings withProxyImage(String image) {
        return new InjectionSettings(image, septaImage, xdsHost, xdsPort, controlPlanePorts, controlPlaneSpiffeId, trustBundleConfigMap);
    }

    public InjectionSettings withSeptaImage(String image) {
        return new InjectionSettings(proxyImage, image, xdsHost, xdsPort, controlPlanePorts, controlPlaneSpiffeId, trustBundleConfigMap);
    }

    public InjectionSettings withXds(String host, int port) {
        return new InjectionSettings(proxyImage, septaImage, host, port, controlPlanePorts, controlPlaneSpiffeId, trustBundleConfigMap);
    }

    /** {@code host:port} of the xDS Service. */
    public String xdsAuthority() {
        return xdsHost + ":" + xdsPort;
    }
}
