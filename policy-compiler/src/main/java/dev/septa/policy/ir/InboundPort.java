package dev.septa.policy.ir;

import dev.septa.policy.model.Protocol;
import java.util.List;

/**
 * Everything that decides traffic to one port of one workload: rules sorted by policy name, and whether
 * {@code defaultAction: Allow} leaves it open (no enforcing Allow intent targets it). Port 0 stands for
 * "every port not listed", the inbound listener's default filter chain.
 */
public record InboundPort(int port, Protocol protocol, List<InboundRule> rules, boolean openByDefault) {
    public InboundPort {
        rules = List.copyOf(rules);
    }
}
