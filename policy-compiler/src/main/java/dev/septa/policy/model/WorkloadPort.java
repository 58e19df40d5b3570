package dev.septa.policy.model;

/** A named port of a workload or service. */
public record WorkloadPort(String name, int port, Protocol protocol) { }
