package dev.septa.controlplane.http;

import dev.septa.controlplane.ControlPlaneCore;
import dev.septa.controlplane.status.StatusReport;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;

/** {@code GET /api/status}: what {@code septa status} prints. */
@Controller("/api")
public class StatusController {
    private final ControlPlaneCore core;

    public StatusController(ControlPlaneCore core) {
        this.core = core;
    }

    @Get("/status")
    public StatusReport status() {
        return core.status();
    }
}
