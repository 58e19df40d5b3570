package dev.septa.policy.ir;

import dev.septa.policy.model.Protocol;
import java.util.List;

/**
 * A service port a workload may reach: its endpoints (member addresses, sorted) and the members' identities.
 * One instance per service port per compile, shared by every workload that reaches it, so equality is identity
 * and emitters cache by it. Names are computed once: they are sort keys in hot loops.
 */
public final class ServicePort {
    private final String name;
    private final String namespace;
    private final int port;
    private final Protocol protocol;
    private final List<String> addresses;
    private final List<String> identities;
    private final String host;
    private final String clusterName;
    private final String authority;

    public ServicePort(String name, String namespace, int port, Protocol protocol, List<String> addresses, List<String> identities) {
        this.name = name;
        this.namespace = namespace;
        this.port = port;
        this.protocol = protocol;
        this.addresses = List.copyOf(addresses);
        this.identities = List.copyOf(identities);
        this.host = name + "." + namespace;
        this.clusterName = "outbound|" + port + "||" + host;
        this.authority = host + ":" + port;
    }

    public String name() {
        return name;
    }

    public String namespace() {
        return namespace;
    }

    public int port() {
        return port;
    }

    public Protocol protocol() {
        return protocol;
    }

    public List<String> addresses() {
        return addresses;
    }

    public List<String> identities() {
        return identities;
    }

    /** {@code name.namespace}, the host clients dial. */
    public String host() {
        return host;
    }

    /** Envoy's (and grpc-java's) cluster name: {@code outbound|PORT||NAME.NS}. */
    public String clusterName() {
        return clusterName;
    }

    /** The proxyless client listener name: {@code NAME.NS:PORT}. */
    public String authority() {
        return authority;
    }

    @Override
    public String toString() {
        return clusterName;
    }
}
