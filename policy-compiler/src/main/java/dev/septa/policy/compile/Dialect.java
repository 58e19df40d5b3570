package dev.septa.policy.compile;

/** The two kinds of proxy Septa configures: Envoy sidecars and grpc-java's proxyless xDS. */
public enum Dialect { ENVOY, GRPC }
