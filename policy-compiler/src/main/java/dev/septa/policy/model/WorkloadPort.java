package dev.septa.policy.model;

/**
 * A named port of a workload or service. {@code protocolGiven} is false when the YAML left the protocol out: the
 * port is then TCP unless an intent aimed at the workload names it HTTP or GRPC (docs/check.md).
 */
public record WorkloadPort(String name, int port, Protocol protocol, boolean protocolGiven) {
    public WorkloadPort(String name, int port, Protocol protocol) {
        this(name, port, protocol, true);
    }
}
