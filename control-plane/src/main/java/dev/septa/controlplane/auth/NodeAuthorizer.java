package dev.septa.controlplane.auth;

/** Decides whether a principal may speak as a node; the certificate case needs the current inventory. */
@FunctionalInterface
public interface NodeAuthorizer {
    boolean mayActAs(Principal principal, String nodeId);
}
