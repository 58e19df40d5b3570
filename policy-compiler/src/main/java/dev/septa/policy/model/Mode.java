package dev.septa.policy.model;

/** Enforce changes decisions; DryRun is evaluated and reported but never blocks (Envoy {@code shadow_rules}). */
public enum Mode { ENFORCE, DRY_RUN }
