package dev.septa.policy.model;

/** Application protocol of a port. HTTP and GRPC ports get L7 (HTTP) RBAC; TCP ports get network RBAC. */
public enum Protocol {
    HTTP, GRPC, TCP;

    public boolean isHttp() {
        return this != TCP;
    }
}
