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

    /**
     * {@code septa ca rotate}: starts a staged rotation of the signing CA (202 with the status); 409 when there is no
     * built-in CA, or when the signer is an operator's intermediate with no successor staged (the reason as text).
     */
    @Post("/ca/rotate")
    public HttpResponse<?> rotate() {
        return switch (core.requestRootRotation()) {
            case ControlPlaneCore.RotationRequest.Accepted a -> HttpResponse.accepted().body(core.status());
            case ControlPlaneCore.RotationRequest.NoBuiltInCa n -> HttpResponse.status(io.micronaut.http.HttpStatus.CONFLICT)
                    .contentType(io.micronaut.http.MediaType.TEXT_PLAIN_TYPE)
                    .body("this control plane does not run Septa's built-in CA");
            case ControlPlaneCore.RotationRequest.NeedsOperator r -> HttpResponse.status(io.micronaut.http.HttpStatus.CONFLICT)
                    .contentType(io.micronaut.http.MediaType.TEXT_PLAIN_TYPE).body(r.message());
        };
    }
}
