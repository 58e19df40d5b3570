package dev.septa.controlplane.source;

/** One YAML document set as read: the name diagnostics use ({@code file:line:col}) and its text. */
public record InputFile(String name, String text) {}
