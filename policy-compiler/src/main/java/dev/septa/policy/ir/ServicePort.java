package dev.septa.policy.ir;

import dev.septa.policy.model.Protocol;
import java.util.List;

/** A service port a workload may reach: its endpoints (member addresses, sorted) and the members' identities. */
public record ServicePort(String name, String namespace, int port, Protocol protocol, List<String> addresses,
                          List<String> identities) {
    public ServicePort {
        addresses = List.copyOf(addresses);
        identities = List.copyOf(identities);
    }

    /** {@code name.namespace}, the host clients dial. */
    public String host() {
        return name + "." + namespace;
    }

    /** Envoy's (and grpc-java's) cluster name: {@code outbound|PORT||NAME.NS}. */
    public String clusterName() {
        return "outbound|" + port + "||" + host();
    }

    /** The proxyless client listener name: {@code NAME.NS:PORT}. */
    public String authority() {
        return host() + ":" + port;
    }
}
