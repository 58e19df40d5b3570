package dev.septa.policy.ir;

import dev.septa.policy.model.Protocol;
import java.util.List;

/**
 * Everything that decides traffic to one port of one workload: the quarantines, which come first, then the rules
 * sorted by policy name, and whether {@code defaultAction: Allow} leaves it open (no enforcing Allow intent targets
 * it). Port 0 stands for "every port not listed", the inbound listener's default filter chain.
 */
public record InboundPort(int port, Protocol protocol, List<InboundRule> rules, boolean openByDefault,
                          List<QuarantineRule> quarantine) {
    public InboundPort {
        rules = List.copyOf(rules);
        quarantine = quarantine == null ? List.of() : List.copyOf(quarantine);
    }

    /** A port no quarantine touches. */
    public InboundPort(int port, Protocol protocol, List<InboundRule> rules, boolean openByDefault) {
        this(port, protocol, rules, openByDefault, List.of());
    }
}
