package dev.septa.policy.model;

/**
 * One {@code to.ports} entry. {@code protocol} is null when the entry leaves it to the destination workload's
 * declaration. {@code http} is null when the rule has no L7 conditions (always null for TCP). A port listed in
 * several entries is covered when any of them covers the request.
 */
public record PortRule(int port, Protocol protocol, HttpMatch http) { }
