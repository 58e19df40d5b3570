package dev.septa.controlplane.http;

import dev.septa.controlplane.ControlPlaneCore;
import dev.septa.controlplane.status.StatusReport;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;

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

    /** {@code septa ca rotate}: starts a staged root rotation; 409 when the control plane has no built-in CA. */
    @Post("/ca/rotate")
    public HttpResponse<StatusReport> rotate() {
        if (!core.requestRootRotation()) {
            return HttpResponse.status(io.micronaut.http.HttpStatus.CONFLICT);
        }
        return HttpResponse.accepted().body(core.status());
    }
}
