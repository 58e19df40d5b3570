package dev.septa.controlplane.quarantine;

import java.time.Instant;

/**
 * Told when a quarantine comes into force and when it is lifted (the hook for the audit log). Called on the
 * publisher thread right after the mesh carrying the change was applied, so each event describes what the proxies
 * are being sent; keep it quick and do not throw (a failing listener is logged and skipped).
 */
public interface QuarantineListener {
    /**
     * @param workload the quarantined workload, {@code ns/name}
     * @param reason the reason ({@code septa check} says {@code DENY quarantine:<reason>})
     * @param allowFrom the forensics segment {@code ns/name}, or null
     * @param origin where it was declared: the state file in local mode, {@code k8s:NS/Quarantine/NAME} in Kubernetes
     * @param at when the mesh carrying the change was applied
     * @param restored true for the quarantines found in force when the control plane started, or when the listener was
     *                 added (not a new order)
     */
    record Event(String workload, String reason, String allowFrom, String origin, Instant at, boolean restored) { }

    void quarantined(Event event);

    void released(Event event);
}
