package dev.septa.sidecar.inject;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * The init container's traffic capture, in the shape Istio's and Kuma's users know: every inbound TCP connection to
 * the pod goes to Envoy's {@code inbound} listener (15006), every outbound one to {@code outbound} (15001), except
 * Envoy's own (uid 1337, so it does not loop into itself), loopback, and the control plane's ports (an app container
 * may call the control plane directly; Envoy reaches it as uid 1337 anyway). IPv4 only in this slice.
 */
public final class IptablesScript {
    public static final int PROXY_UID = 1337;
    public static final int INBOUND_PORT = 15006;
    public static final int OUTBOUND_PORT = 15001;

    private IptablesScript() {
    }

    /** The commands, one per line, for {@code sh -ec}; any failing command fails the init container and so the pod. */
    public static String script(Collection<Integer> excludedOutboundPorts, Collection<Integer> excludedInboundPorts) {
        List<String> lines = new ArrayList<>();
        lines.add("iptables -t nat -N SEPTA_INBOUND");
        lines.add("iptables -t nat -N SEPTA_IN_REDIRECT");
        lines.add("iptables -t nat -N SEPTA_OUTPUT");
        lines.add("iptables -t nat -N SEPTA_REDIRECT");
        lines.add("iptables -t nat -A SEPTA_IN_REDIRECT -p tcp -j REDIRECT --to-ports " + INBOUND_PORT);
        lines.add("iptables -t nat -A SEPTA_REDIRECT -p tcp -j REDIRECT --to-ports " + OUTBOUND_PORT);
        // Inbound: everything but the excluded ports goes to Envoy's inbound listener.
        lines.add("iptables -t nat -A PREROUTING -p tcp -j SEPTA_INBOUND");
        for (int port : new TreeSet<>(excludedInboundPorts)) {
            lines.add("iptables -t nat -A SEPTA_INBOUND -p tcp --dport " + port + " -j RETURN");
        }
        lines.add("iptables -t nat -A SEPTA_INBOUND -p tcp -j SEPTA_IN_REDIRECT");
        // Outbound: Envoy's own connections (uid and gid 1337) and loopback pass; so do the control plane's ports.
        lines.add("iptables -t nat -A OUTPUT -p tcp -j SEPTA_OUTPUT");
        lines.add("iptables -t nat -A SEPTA_OUTPUT -m owner --uid-owner " + PROXY_UID + " -j RETURN");
        lines.add("iptables -t nat -A SEPTA_OUTPUT -m owner --gid-owner " + PROXY_UID + " -j RETURN");
        lines.add("iptables -t nat -A SEPTA_OUTPUT -d 127.0.0.1/32 -j RETURN");
        for (int port : new TreeSet<>(excludedOutboundPorts)) {
            lines.add("iptables -t nat -A SEPTA_OUTPUT -p tcp --dport " + port + " -j RETURN");
        }
        lines.add("iptables -t nat -A SEPTA_OUTPUT -p tcp -j SEPTA_REDIRECT");
        return String.join("\n", lines) + "\n";
    }
}
