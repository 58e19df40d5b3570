package dev.septa.controlplane.http;

import dev.septa.controlplane.ControlPlaneCore;
import dev.septa.controlplane.quarantine.QuarantineOrder;
import dev.septa.controlplane.quarantine.QuarantineStore;
import dev.septa.controlplane.status.StatusReport;
import dev.septa.policy.model.Mesh;
import dev.septa.policy.model.Segment;
import dev.septa.policy.model.Workload;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import java.io.IOException;
import java.time.Clock;
import java.util.List;
import java.util.Optional;

/**
 * {@code septa quarantine}: {@code GET /api/quarantines} lists them; {@code POST /api/quarantines/NS/NAME?reason=TEXT&allowFrom=SEGMENT}
 * quarantines a workload of the mesh in force, {@code DELETE /api/quarantines/NS/NAME} releases it. Both change state, so
 * they need the HTTP token ({@link HttpAccessFilter}). The order is persisted before the answer and enforced within a
 * second (the compile it triggers); the answer is the quarantine list, where {@code inForce} turns true once the
 * configuration carrying it is being sent. Bad input is a 400 with one line; an unknown workload a 404. In Kubernetes
 * mode a quarantine is a {@code Quarantine} custom resource (409 says so): the cluster, not one replica's disk, is the truth.
 */
@Controller("/api/quarantines")
public class QuarantineController {
    private final ControlPlaneCore core;
    private final Clock clock = Clock.systemUTC();

    public QuarantineController(ControlPlaneCore core) {
        this.core = core;
    }

    @Get
    public List<StatusReport.QuarantineView> list() {
        return core.quarantineViews();
    }

    @Post("/{namespace}/{name}")
    public HttpResponse<?> quarantine(@PathVariable String namespace, @PathVariable String name,
                                      @Nullable @QueryValue String reason, @Nullable @QueryValue String allowFrom) {
        String workload = namespace + "/" + name;
        String problem = QuarantineOrder.problem(workload, reason, allowFrom == null || allowFrom.isEmpty() ? null : allowFrom);
        if (problem != null) {
            return text(HttpStatus.BAD_REQUEST, problem);
        }
        Optional<QuarantineStore> store = core.quarantineStore();
        if (store.isEmpty()) {
            return text(HttpStatus.CONFLICT, kubernetesHint(namespace, name, reason, allowFrom));
        }
        Optional<Mesh> mesh = core.meshState().mesh();
        if (mesh.isEmpty()) {
            return text(HttpStatus.SERVICE_UNAVAILABLE, "no configuration in force yet (see septa status); try again once it compiles");
        }
        if (core.meshState().workload(workload).isEmpty()) {
            return text(HttpStatus.NOT_FOUND, unknownWorkload(mesh.get(), workload));
        }
        QuarantineOrder order = new QuarantineOrder(workload, reason, allowFrom == null || allowFrom.isEmpty() ? null : allowFrom,
                clock.instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        String segment = order.allowFromQualified();
        if (segment != null && mesh.get().segments().stream().map(Segment::ref).noneMatch(r -> r.toString().equals(segment))) {
            return text(HttpStatus.BAD_REQUEST, "unknown forensics segment '" + segment + "'" + dev.septa.policy.parse.Suggestions
                    .didYouMean(segment, mesh.get().segments().stream().map(s -> s.ref().toString()).toList()));
        }
        try {
            store.get().put(order);
        } catch (IOException e) {
            return text(HttpStatus.SERVICE_UNAVAILABLE, "cannot write the quarantine to the state directory: " + e.getMessage());
        }
        return HttpResponse.ok(core.quarantineViews());
    }

    @Delete("/{namespace}/{name}")
    public HttpResponse<?> release(@PathVariable String namespace, @PathVariable String name) {
        String workload = namespace + "/" + name;
        String problem = QuarantineOrder.problem(workload, null, null);
        if (problem != null) {
            return text(HttpStatus.BAD_REQUEST, problem);
        }
        Optional<QuarantineStore> store = core.quarantineStore();
        if (store.isEmpty()) {
            return text(HttpStatus.CONFLICT, "in Kubernetes mode a quarantine is a Quarantine resource: kubectl delete quarantines.septa.dev -n "
                    + namespace + " NAME (the resource naming spec.workload " + name + ")");
        }
        try {
            if (store.get().release(workload).isEmpty()) {
                return text(HttpStatus.NOT_FOUND, "'" + workload + "' is not quarantined" + (core.quarantineViews().isEmpty() ? ""
                        : " (quarantined: " + String.join(", ", core.quarantineViews().stream().map(StatusReport.QuarantineView::workload).toList()) + ")"));
            }
        } catch (IOException e) {
            return text(HttpStatus.SERVICE_UNAVAILABLE, "cannot write the quarantines to the state directory: " + e.getMessage());
        }
        return HttpResponse.ok(core.quarantineViews());
    }

    private static String unknownWorkload(Mesh mesh, String workload) {
        List<String> ids = mesh.workloads().stream().map(Workload::id).sorted().toList();
        return "unknown workload '" + workload + "'" + dev.septa.policy.parse.Suggestions.didYouMean(workload, ids);
    }

    private static String kubernetesHint(String namespace, String name, String reason, String allowFrom) {
        return "in Kubernetes mode a quarantine is a Quarantine resource: kubectl apply -f - <<EOF\napiVersion: septa.dev/v1alpha1\n"
                + "kind: Quarantine\nmetadata: {name: " + name + ", namespace: " + namespace + "}\nspec: {workload: " + name
                + (reason == null ? "" : ", reason: \"" + reason.replace("\\", "\\\\").replace("\"", "\\\"") + "\"")
                + (allowFrom == null || allowFrom.isEmpty() ? "" : ", allowFrom: " + allowFrom) + "}\nEOF";
    }

    private static HttpResponse<String> text(HttpStatus status, String message) {
        return HttpResponse.<String>status(status).contentType(MediaType.TEXT_PLAIN_TYPE).body(message);
    }
}
