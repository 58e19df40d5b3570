package dev.septa.policy.check;

import dev.septa.policy.rbac.RbacFilter;
import java.util.List;

/**
 * What a connection meets on the filter chain that takes it: its RBAC filters in the order they run, and what the
 * chain's HttpConnectionManager does to {@code :path} before its HTTP filters see it.
 */
record InboundChain(List<RbacFilter> filters, EnvoyPathNormalization paths) {
    InboundChain {
        filters = List.copyOf(filters);
    }
}
