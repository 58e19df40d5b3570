package dev.septa.policy.model;

/** STRICT accepts only mTLS; PERMISSIVE also accepts plaintext on inbound (for migration). */
public enum MtlsMode { STRICT, PERMISSIVE }
