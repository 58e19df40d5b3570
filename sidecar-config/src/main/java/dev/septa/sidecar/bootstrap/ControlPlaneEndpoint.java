package dev.septa.sidecar.bootstrap;

import java.util.Objects;

/**
 * Where the control plane's xDS/SDS server listens, and the trust bundle (PEM, public) that verifies its certificate.
 */
public record ControlPlaneEndpoint(String host, int port, String trustBundlePem) {
    public ControlPlaneEndpoint {
        Objects.requireNonNull(host, "host");
        if (port <= 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 1..65535, got " + port);
        }
    }

    /** {@code host:port}, with brackets around an IPv6 literal. */
    public String authority() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    /** Parses {@code HOST:PORT}; the trust bundle is attached later. */
    public static ControlPlaneEndpoint parse(String hostPort, String trustBundlePem) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0 || colon == hostPort.length() - 1) {
            throw new IllegalArgumentException("expected HOST:PORT, got '" + hostPort + "'");
        }
        String host = hostPort.substring(0, colon).replace("[", "").replace("]", "");
        int port;
        try {
            port = Integer.parseInt(hostPort.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected HOST:PORT with a numeric port, got '" + hostPort + "'");
        }
        return new ControlPlaneEndpoint(host, port, trustBundlePem);
    }
}
