package dev.septa.policy.model;

/** One {@code to.ports} entry. {@code http} is null when the rule has no L7 conditions (always null for TCP). */
public record PortRule(int port, Protocol protocol, HttpMatch http) { }
