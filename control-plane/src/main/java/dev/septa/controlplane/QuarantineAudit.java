package dev.septa.controlplane;

import dev.septa.controlplane.audit.AuditLog;
import dev.septa.controlplane.quarantine.QuarantineListener;

/**
 * Puts every quarantine and release the proxies are sent on the audit trail. The actor is where the order was declared
 * (the state file, or {@code k8s:NS/Quarantine/NAME}); a quarantine found in force at start is recorded too, marked as
 * such, so a Quarantine resource created while no replica ran is still on record.
 */
final class QuarantineAudit implements QuarantineListener {
    private final AuditLog audit;

    QuarantineAudit(AuditLog audit) {
        this.audit = audit;
    }

    @Override
    public void quarantined(Event event) {
        audit.quarantined(event.workload(), event.reason(), event.allowFrom(), actor(event));
    }

    @Override
    public void released(Event event) {
        audit.released(event.workload(), actor(event));
    }

    private static String actor(Event event) {
        return event.restored() ? event.origin() + " (in force at start)" : event.origin();
    }
}
